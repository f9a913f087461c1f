import { AwsServiceError, type AwsErrorCode } from './errors.js';
import { LOCAL_ACCOUNT_ID, LOCAL_CALLER_ARN, LOCAL_CALLER_USER_ID } from './local-identity.js';

/**
 * STS GetCallerIdentity over the query protocol (form body `Action=GetCallerIdentity`, XML
 * answer), so a credential check (`aws sts get-caller-identity`, `@aws-sdk/client-sts`) pointed at
 * the local endpoint succeeds. Any other STS action is InvalidAction.
 */

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** The STS action of a query-protocol body, or undefined when the body is not one. */
export function stsAction(contentType: string | undefined, body: string): string | undefined {
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(body).get('Action') ?? undefined;
}

/** The XML answer to an STS action; AwsServiceError for an action other than GetCallerIdentity. */
export function runStsAction(action: string, requestId: string): string {
  if (action !== 'GetCallerIdentity') {
    throw new AwsServiceError('InvalidAction', 'The action or operation requested is invalid. Verify that the action is typed correctly.');
  }
  return [
    `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}">`,
    '<GetCallerIdentityResult>',
    `<Arn>${LOCAL_CALLER_ARN}</Arn>`,
    `<UserId>${LOCAL_CALLER_USER_ID}</UserId>`,
    `<Account>${LOCAL_ACCOUNT_ID}</Account>`,
    '</GetCallerIdentityResult>',
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`,
    '</GetCallerIdentityResponse>',
  ].join('');
}

/** An STS error body: the query protocol's `ErrorResponse`. */
export function stsErrorXml(code: AwsErrorCode, message: string, requestId: string, httpStatus: number): string {
  return [
    `<ErrorResponse xmlns="${STS_NAMESPACE}">`,
    `<Error><Type>${httpStatus >= 500 ? 'Receiver' : 'Sender'}</Type>`,
    `<Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
    `<RequestId>${requestId}</RequestId>`,
    '</ErrorResponse>',
  ].join('');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
