/**
 * An @inquirer/prompts theme without colour, for NO_COLOR: the library colours through
 * node:util's styleText, which honours NO_COLOR only from Node 22 on. Same text and layout as
 * the default theme, styles left out.
 */
const same = (text: string) => text;

export const PLAIN_PROMPT_THEME = {
  prefix: { idle: '?', done: '✔' },
  spinner: { interval: 80, frames: ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] },
  style: {
    answer: same,
    message: same,
    error: (text: string) => `> ${text}`,
    defaultAnswer: (text: string) => `(${text})`,
    help: same,
    highlight: same,
    key: (text: string) => `<${text}>`,
    // The password prompt's hint line, and the confirm prompt's default marker.
    keysHelpTip: (keys: [string, string][]) => keys.map(([key, action]) => `${key} ${action}`).join(' • '),
    confirmDefault: (text: string) => (text[0] ?? '').toUpperCase() + text.slice(1),
  },
};
