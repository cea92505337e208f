/**
 * The rules plugin's own widgets ("Rule messages", "Rule messages 2–4"): the text of the overlay
 * actions sent to `rules`, `rules-2`, `rules-3` or `rules-4`, one message at a time for `showMs`,
 * in the order they came. Each widget carries one of those channels; the same code serves all four. The text is shown as text, never as HTML.
 */
import { openWidget } from '@ttlp/sdk/widget';

/** What an overlay action sends (see the plugin's README). */
interface RuleMessage {
  ruleId: string;
  text: string;
  eventId: string;
}

interface Options {
  position: 'top' | 'center' | 'bottom';
  color: string;
  background: string;
  fontSize: number;
  showMs: number;
}

const CHANNELS = ['rules', 'rules-2', 'rules-3', 'rules-4'] as const;
type Messages = Record<(typeof CHANNELS)[number], RuleMessage>;

const widget = openWidget<Messages, Options>();
const { position, color, background, fontSize, showMs } = widget.options;

const style = document.createElement('style');
style.textContent = `
  .rule-message { position: absolute; left: 50%; transform: translateX(-50%); max-width: 90%; padding: 0.35em 0.9em;
    border-radius: 0.45em; background: ${background}; color: ${color}; font: 700 ${fontSize}px system-ui, sans-serif;
    text-align: center; overflow-wrap: anywhere; transition: opacity 250ms; }
  .rule-message.top { top: 6%; } .rule-message.center { top: 50%; transform: translate(-50%, -50%); } .rule-message.bottom { bottom: 8%; }
  .rule-message.gone { opacity: 0; }
`;
document.head.append(style);

/** Messages waiting for their turn, so that a burst of matches is read one by one. */
const waiting: string[] = [];
let showing = false;

function showNext(): void {
  const text = waiting.shift();
  if (text === undefined) {
    showing = false;
    return;
  }
  showing = true;
  const line = document.createElement('div');
  line.className = `rule-message ${position}`;
  line.textContent = text;
  widget.root.replaceChildren(line);
  setTimeout(() => {
    line.classList.add('gone');
    setTimeout(showNext, 250);
  }, showMs);
}

for (const channel of CHANNELS)
  widget.onMessage(channel, (message) => {
    if (typeof message?.text !== 'string' || message.text === '') return;
    // A long burst keeps the newest 20 rather than lagging minutes behind the stream.
    if (waiting.push(message.text) > 20) waiting.shift();
    if (!showing) showNext();
  });
