import type { FilterInput, FilterKey } from './request-fields.js';
import type { SecretRecord } from './store.js';

/**
 * ListSecrets / BatchGetSecretValue filters, as the API reference's `Filter` type describes them:
 * - name, tag-key, tag-value, primary-region, owning-service: prefix match, case-sensitive;
 * - description: prefix match, not case-sensitive;
 * - all: the value is broken into words (at case changes, letter/digit changes and punctuation)
 *   and matches when any word is a prefix of a word of the name, description, a tag key or value;
 *   not case-sensitive;
 * - a value starting with `!` negates.
 * Values of one filter are OR'ed (negated ones must all not match); filters are AND'ed.
 */
export function matchesFilters(secret: SecretRecord, filters: readonly FilterInput[], region: string): boolean {
  return filters.every((filter) => matchesFilter(secret, filter, region));
}

function matchesFilter(secret: SecretRecord, filter: FilterInput, region: string): boolean {
  const positives = filter.values.filter((value) => !value.startsWith('!'));
  const negatives = filter.values.filter((value) => value.startsWith('!')).map((value) => value.slice(1));
  if (negatives.some((value) => matchesValue(secret, filter.key, value, region))) return false;
  return positives.length === 0 || positives.some((value) => matchesValue(secret, filter.key, value, region));
}

function matchesValue(secret: SecretRecord, key: FilterKey, value: string, region: string): boolean {
  switch (key) {
    case 'name':
      return secret.name.startsWith(value);
    case 'description':
      return (secret.description ?? '').toLowerCase().startsWith(value.toLowerCase());
    case 'tag-key':
      return [...secret.tags.keys()].some((tagKey) => tagKey.startsWith(value));
    case 'tag-value':
      return [...secret.tags.values()].some((tagValue) => tagValue.startsWith(value));
    case 'primary-region':
      // A replica names its primary region; a primary is in the region asked.
      return (secret.primaryRegion ?? region).startsWith(value);
    case 'owning-service':
      // No secret here is managed by another AWS service.
      return false;
    case 'all': {
      const attributeWords = [secret.name, secret.description ?? '', ...secret.tags.keys(), ...secret.tags.values()]
        .flatMap(words);
      return words(value).some((word) => attributeWords.some((attributeWord) => attributeWord.startsWith(word)));
    }
  }
}

/** Lower-cased words: split at non-alphanumerics, lower->upper case changes and letter<->digit changes. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([a-zA-Z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([a-zA-Z])/g, '$1 $2')
    .split(/[^a-zA-Z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}
