// Master-file tokenizer (RFC 1035 §5.1): one pass over the text by char code, joining lines inside
// ( ), dropping ; comments, and cutting quoted and unquoted tokens; CR is plain white space.
//
// Tokens are slices of the text: quotes are removed but backslash escapes (\X, \DDD) are kept as
// written, because their meaning depends on the field (a `\.` in a name is not a label dot, in a
// character-string it is just "."). rdata-text.ts and the name parser decode them.

/** One logical entry: a record or a directive, possibly spanning lines through parentheses. */
export interface Entry {
  /** 1-based line the entry starts on. */
  line: number;
  /** The entry's first line starts with a blank: the owner is the previous record's (RFC 1035 §5.1). */
  blankOwner: boolean;
  tokens: string[];
  /** Bit i set when tokens[i] was quoted (for i < 31). */
  quoted: number;
  /** A lexical error was reported in this entry: its tokens are incomplete, use them only to track the owner. */
  bad: boolean;
}

export type LexErrorSink = (line: number, message: string) => void;

// Characters that end an unquoted token.
const DELIM = new Uint8Array(128);
for (const c of [0x20, 0x09, 0x0d, 0x0a, 0x3b /* ; */, 0x28 /* ( */, 0x29 /* ) */, 0x22 /* " */]) DELIM[c] = 1;

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const SEMI = 0x3b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Reads entries one at a time. A lexical error (unbalanced parenthesis, unterminated quote, lone
 * backslash) is reported through `onError` and the entry comes back marked `bad` (the caller only
 * learns its owner from it); scanning goes on with the next one.
 */
export class Lexer {
  private pos = 0;
  private lineNo = 1;

  constructor(
    private readonly text: string,
    private readonly onError: LexErrorSink,
  ) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1; // byte-order mark
  }

  next(): Entry | null {
    const s = this.text;
    const n = s.length;
    let i = this.pos;
    for (;;) {
      if (i >= n) {
        this.pos = i;
        return null;
      }
      const line = this.lineNo;
      const first = s.charCodeAt(i);
      const blankOwner = first === SPACE || first === TAB;
      const tokens: string[] = [];
      let quoted = 0;
      let depth = 0;
      let parenLine = 0;
      let bad = false;
      let ended = false;
      while (i < n) {
        const c = s.charCodeAt(i);
        if (c === SPACE || c === TAB || c === CR) {
          i++;
        } else if (c === LF) {
          i++;
          this.lineNo++;
          if (depth === 0) {
            ended = true;
            break;
          }
        } else if (c === SEMI) {
          const nl = s.indexOf("\n", i);
          i = nl === -1 ? n : nl;
        } else if (c === LPAREN) {
          if (depth > 0) {
            if (!bad) this.onError(this.lineNo, `"(" inside parentheses opened on line ${parenLine}; parentheses do not nest`);
            bad = true;
          } else {
            depth = 1;
            parenLine = this.lineNo;
          }
          i++;
        } else if (c === RPAREN) {
          if (depth === 0) {
            if (!bad) this.onError(this.lineNo, `")" with no "(" before it`);
            bad = true;
          } else {
            depth = 0;
          }
          i++;
        } else if (c === QUOTE) {
          let j = i + 1;
          let closed = false;
          while (j < n) {
            const d = s.charCodeAt(j);
            if (d === QUOTE) {
              closed = true;
              break;
            }
            if (d === LF) break;
            if (d === BACKSLASH) {
              if (s.charCodeAt(j + 1) === LF) break; // an escaped line end is still a line end
              j += 2;
              continue;
            }
            j++;
          }
          if (!closed) {
            if (!bad) this.onError(this.lineNo, `quoted string is not closed on its line; add the closing '"'`);
            bad = true;
            i = Math.min(j, n);
            if (i < n && s.charCodeAt(i) === BACKSLASH) i++; // leave the LF for the loop
          } else {
            if (tokens.length < 31) quoted |= 1 << tokens.length;
            tokens.push(s.slice(i + 1, j));
            i = j + 1;
          }
        } else {
          let j = i;
          while (j < n) {
            const d = s.charCodeAt(j);
            if (d < 128 && DELIM[d] === 1) break;
            if (d === BACKSLASH) {
              const e = s.charCodeAt(j + 1);
              if (j + 1 >= n || e === LF || e === CR) {
                if (!bad) this.onError(this.lineNo, `backslash at the end of a line; write "\\\\" for a backslash`);
                bad = true;
                j++;
                break;
              }
              j += 2;
              continue;
            }
            j++;
          }
          tokens.push(s.slice(i, j));
          i = j;
        }
      }
      if (!ended && depth > 0) {
        this.onError(parenLine, `"(" opened here is never closed; add ")"`);
        bad = true;
      }
      if (tokens.length === 0 && !bad) continue;
      this.pos = i;
      return { line, blankOwner, tokens, quoted, bad };
    }
  }
}
