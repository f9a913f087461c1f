/** An AWS region name: `us-east-1`, `eu-west-1`, `ap-southeast-2`, `us-gov-west-1`. */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * The replica regions of a comma-separated list (SECRETS_REPLICA_REGIONS, `--replica-regions`),
 * in order of preference. Blank items are skipped; a name that is not a region, a region named
 * twice, or the primary itself throws a RangeError that names the fault, never more of the input
 * than the region.
 */
export function parseReplicaRegions(list: string, primaryRegion: string): string[] {
  const regions: string[] = [];
  for (const item of list.split(',')) {
    const region = item.trim();
    if (region === '') continue;
    if (!REGION_NAME.test(region)) throw new RangeError('each item must be a region name such as us-west-2');
    if (region === primaryRegion) throw new RangeError(`${region} is the primary region (AWS_REGION); list only other regions`);
    if (regions.includes(region)) throw new RangeError(`${region} is listed twice`);
    regions.push(region);
  }
  return regions;
}
