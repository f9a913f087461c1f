/**
 * The AWS error types the local endpoint answers with. The names are AWS's own wire names (the
 * `__type` of a JSON 1.1 error body and the `x-amzn-ErrorType` header), so the AWS SDK maps them
 * to its modelled exception classes (`ResourceNotFoundException`, ...).
 */
export type AwsErrorCode =
  // Modelled by Secrets Manager (botocore `secretsmanager/2017-10-17/service-2.json`).
  | 'ResourceNotFoundException'
  | 'ResourceExistsException'
  | 'InvalidParameterException'
  | 'InvalidRequestException'
  | 'InvalidNextTokenException'
  | 'LimitExceededException'
  | 'InternalServiceError'
  // Common to every AWS JSON service (answered by the front end, not the service model).
  | 'ValidationException'
  | 'SerializationException'
  | 'AccessDeniedException'
  | 'ThrottlingException'
  | 'MissingAuthenticationTokenException'
  | 'UnknownOperationException'
  | 'RequestEntityTooLargeException'
  // STS (query protocol, XML errors).
  | 'MissingAuthenticationToken'
  | 'InvalidAction';

/** HTTP status for each error code: the one table that decides it. */
const HTTP_STATUS: Readonly<Record<AwsErrorCode, number>> = {
  ResourceNotFoundException: 400,
  ResourceExistsException: 400,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  InvalidNextTokenException: 400,
  LimitExceededException: 400,
  InternalServiceError: 500,
  ValidationException: 400,
  SerializationException: 400,
  AccessDeniedException: 400,
  ThrottlingException: 400,
  MissingAuthenticationTokenException: 400,
  UnknownOperationException: 400,
  RequestEntityTooLargeException: 413,
  MissingAuthenticationToken: 403,
  InvalidAction: 400,
};

export function httpStatusFor(code: AwsErrorCode): number {
  return HTTP_STATUS[code];
}

/**
 * An error the endpoint reports to the caller as an AWS error. Messages carry names, version ids
 * and field names only, never a secret value and never echoed input values.
 */
export class AwsServiceError extends Error {
  readonly code: AwsErrorCode;

  constructor(code: AwsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsServiceError';
    this.code = code;
  }

  get httpStatus(): number {
    return httpStatusFor(this.code);
  }
}

/** The body of a 500: says nothing internal. */
export const INTERNAL_ERROR_MESSAGE = 'An error occurred on the server side.';

/**
 * A request field that breaks a constraint of the service model, worded like AWS's front end
 * ("1 validation error detected: Value at 'secretString' failed to satisfy constraint: ...")
 * but without the offending value: a value may be a secret.
 */
export function validationError(field: string, constraint: string): AwsServiceError {
  return new AwsServiceError(
    'ValidationException',
    `1 validation error detected: Value at '${wireFieldName(field)}' failed to satisfy constraint: ${constraint}`,
  );
}

/** AWS's validation messages name members in lower camel case: `SecretIdList` -> `secretIdList`. */
function wireFieldName(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}
