import { parsePostgresConnection } from '../engine/index.js';

/**
 * `secrets setup --terraform-dir DIR`: DATABASE_URL from the infrastructure's Terraform outputs
 * (`terraform output -json`), as the seed's setup script finds the RDS endpoint. A `database_url`
 * output is used as it is: a URL, or the JSON that RDS rotation uses (as a string, or as an
 * object output, stored as its JSON); otherwise the URL is built from an endpoint output
 * (`rds_endpoint`, `db_endpoint` or `database_endpoint`, "host" or "host:port") with
 * `db_username`, `db_password` and `db_name`. Values stay in memory; nothing here is printed but
 * the host.
 */
export type TerraformOutputs = Readonly<Record<string, { readonly value: unknown; readonly sensitive?: boolean }>>;

const ENDPOINT_OUTPUTS = ['rds_endpoint', 'db_endpoint', 'database_endpoint'];

export interface TerraformDatabaseUrl {
  readonly url: string;
  /** For the operator: where the URL came from (host only, never credentials). */
  readonly host: string;
}

export function databaseUrlFromTerraform(outputs: TerraformOutputs): TerraformDatabaseUrl | undefined {
  const str = (name: string): string | undefined => {
    const v = outputs[name]?.value;
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const output = outputs.database_url?.value;
  const direct = typeof output === 'string' && output !== '' ? output : output !== null && typeof output === 'object' ? JSON.stringify(output) : undefined;
  if (direct !== undefined) {
    const parsed = parsePostgresConnection(direct);
    return parsed.ok ? { url: direct, host: parsed.value.host } : undefined;
  }
  const endpoint = ENDPOINT_OUTPUTS.map(str).find((v) => v !== undefined);
  if (endpoint === undefined) return undefined;
  const [host = '', port = '5432'] = endpoint.split(':');
  const url = new URL(`postgresql://${host}:${port}`);
  url.username = str('db_username') ?? 'postgres';
  const password = str('db_password');
  if (password !== undefined) url.password = password;
  url.pathname = `/${str('db_name') ?? 'whatsapp_saas'}`;
  return { url: url.toString(), host };
}
