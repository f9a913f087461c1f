/** The one account and caller the local endpoint pretends every request comes from. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CALLER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local`;
export const LOCAL_CALLER_USER_ID = 'AIDALOCALSECRETSMANAGER';
