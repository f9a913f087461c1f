import GithubSlugger from 'github-slugger';
import type { Code, Html, InlineCode, Link, Nodes, Parents } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { toString } from 'mdast-util-to-string';

/** Why a block is checked but never run (the guide's source documents each). */
export const SKIP_REASONS = ['aws', 'service', 'server', 'interactive', 'host', 'database'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type BlockMarker = { readonly kind: 'run'; readonly exit: number } | { readonly kind: 'skip'; readonly reasons: readonly SkipReason[] };

export interface GuideBlock {
  readonly lang: string | null;
  readonly code: string;
  /** 1-based line of the opening fence in the guide. */
  readonly line: number;
  readonly marker: BlockMarker;
}

export interface InlineSpan {
  readonly value: string;
  readonly line: number;
}

export interface GuideParts {
  readonly blocks: readonly GuideBlock[];
  readonly inline: readonly InlineSpan[];
  /** Link targets, with their line. */
  readonly links: readonly InlineSpan[];
  /** The anchors of the headings, as GitHub makes them. */
  readonly anchors: ReadonlySet<string>;
  /** Markers that are malformed or stand before something other than a fenced block. */
  readonly markerProblems: readonly string[];
}

const MARKER = /^<!--\s*guide-test:\s*(.*?)\s*-->$/s;

/**
 * The guide's fenced blocks, each with the marker (an HTML comment `guide-test: ...`) that stands
 * right before it, and its inline code spans. Parsed as CommonMark, so a fence inside a list or a
 * quote is found as the reader sees it.
 */
export function guideParts(markdown: string): GuideParts {
  const tree = fromMarkdown(markdown);
  const blocks: GuideBlock[] = [];
  const inline: InlineSpan[] = [];
  const links: InlineSpan[] = [];
  const anchors = new Set<string>();
  const slugger = new GithubSlugger();
  const markerProblems: string[] = [];

  const visit = (node: Nodes): void => {
    if (node.type === 'inlineCode') inline.push({ value: (node as InlineCode).value, line: node.position?.start.line ?? 0 });
    if (node.type === 'link') links.push({ value: (node as Link).url, line: node.position?.start.line ?? 0 });
    if (node.type === 'heading') anchors.add(slugger.slug(toString(node)));
    if (!('children' in node)) return;
    const children = (node as Parents).children as Nodes[];
    children.forEach((child, i) => {
      if (child.type === 'code') {
        const before = children[i - 1];
        const marker = before?.type === 'html' ? markerOf(before, markerProblems) : undefined;
        blocks.push({ lang: child.lang ?? null, code: (child as Code).value, line: child.position?.start.line ?? 0, marker: marker ?? { kind: 'run', exit: 0 } });
      } else if (child.type === 'html' && MARKER.test(child.value.trim()) && children[i + 1]?.type !== 'code') {
        markerProblems.push(`line ${child.position?.start.line}: a guide-test marker must stand right before a fenced block`);
      }
      visit(child);
    });
  };
  visit(tree);
  return { blocks, inline, links, anchors, markerProblems };
}

function markerOf(node: Html, problems: string[]): BlockMarker | undefined {
  const match = MARKER.exec(node.value.trim());
  if (match === null) return undefined;
  const body = match[1]!;
  const line = node.position?.start.line;
  const exit = /^exit=(\d{1,3})$/.exec(body);
  if (exit !== null) return { kind: 'run', exit: Number(exit[1]) };
  const skip = /^skip=([a-z,]+)$/.exec(body);
  if (skip !== null) {
    const reasons = skip[1]!.split(',');
    const unknown = reasons.filter((r) => !(SKIP_REASONS as readonly string[]).includes(r));
    if (unknown.length === 0) return { kind: 'skip', reasons: reasons as SkipReason[] };
    problems.push(`line ${line}: unknown skip reason ${unknown.join(', ')} (known: ${SKIP_REASONS.join(', ')})`);
    return { kind: 'skip', reasons: [] };
  }
  problems.push(`line ${line}: malformed marker "${body}" (exit=N or skip=REASON[,REASON])`);
  return undefined;
}
