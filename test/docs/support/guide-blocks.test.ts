import { describe, expect, it } from 'vitest';
import { guideParts } from './guide-blocks.js';

describe('guideParts', () => {
  it('gives each fenced block the marker that stands right before it, and run with exit 0 otherwise', () => {
    const md = ['<!-- guide-test: skip=aws,service -->', '```bash', 'aws sts get-caller-identity', '```', '', '<!-- guide-test: exit=1 -->', '```bash', 'false', '```', '', '```text', 'out', '```'].join('\n');

    const { blocks, markerProblems } = guideParts(md);

    expect(markerProblems).toEqual([]);
    expect(blocks.map((b) => [b.lang, b.marker])).toEqual([
      ['bash', { kind: 'skip', reasons: ['aws', 'service'] }],
      ['bash', { kind: 'run', exit: 1 }],
      ['text', { kind: 'run', exit: 0 }],
    ]);
  });

  it('reports markers that are malformed, name an unknown reason, or stand before no block', () => {
    const md = ['<!-- guide-test: skip=cloud -->', '```bash', 'x', '```', '', '<!-- guide-test: sometimes -->', '```bash', 'y', '```', '', '<!-- guide-test: exit=2 -->', '', 'a paragraph'].join('\n');

    const { markerProblems } = guideParts(md);

    expect(markerProblems).toHaveLength(3);
    expect(markerProblems.join('\n')).toMatch(/unknown skip reason cloud[\s\S]*malformed marker "sometimes"[\s\S]*must stand right before a fenced block/);
  });

  it('collects inline code, links and heading anchors as GitHub makes them', () => {
    const { inline, links, anchors } = guideParts("# The service's role\n\nRun `secrets status`, see [x](#the-services-role).\n");

    expect(inline).toEqual([{ value: 'secrets status', line: 3 }]);
    expect(links).toEqual([{ value: '#the-services-role', line: 3 }]);
    expect([...anchors]).toEqual(['the-services-role']);
  });
});
