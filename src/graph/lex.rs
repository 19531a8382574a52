//! The tokens of DOT and of dagitty's DOT-like syntax, with their line and
//! column.
//!
//! Both languages share one lexer: IDs (unquoted names and numerals,
//! `"quoted"` strings, HTML-like `<..>` strings), the edge operators `->`,
//! `<-`, `<->` and `--`, punctuation, and `//`, `/* */` and `#` comments.
//! In quoted strings `\"` is a quote, `\\` a backslash (what
//! [`super::dot::quote`] writes) and a backslash before a line end joins
//! the lines (DOT's line continuation); a leading UTF-8 byte-order mark is
//! skipped, and `\r` is whitespace, so CRLF files read.

use std::path::Path;

use super::GraphError;

/// A line and a column, both 1-based.
pub(super) type Position = (usize, usize);

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token {
    /// A name or a numeral; `quoted` when it was written in `".."`, which
    /// makes keywords plain names.
    Id {
        text: String,
        quoted: bool,
    },
    /// An HTML-like string `<..>` (an attribute value in DOT).
    Html,
    /// `->`
    Arrow,
    /// `<-` (dagitty)
    BackArrow,
    /// `<->` (dagitty: a latent confounder)
    Bidirected,
    /// `--`
    Undirected,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Semicolon,
    Comma,
    Equals,
    Colon,
}

impl Token {
    /// The text of an unquoted ID, for keyword tests.
    pub(super) fn keyword(&self) -> Option<&str> {
        match self {
            Token::Id {
                text,
                quoted: false,
            } => Some(text),
            _ => None,
        }
    }
}

/// A token and where it starts.
pub(super) struct Lexed {
    pub(super) token: Token,
    pub(super) line: usize,
    pub(super) column: usize,
}

/// The tokens of `text` and the position just past its end.
pub(super) fn lex(text: &str) -> Result<(Vec<Lexed>, Position), (Position, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cur = Cursor {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    while let Some(c) = cur.peek(0) {
        let start = (cur.line, cur.column);
        let next = cur.peek(1);
        let (token, width) = match (c, next, cur.peek(2)) {
            ('{', ..) => (Token::Open, 1),
            ('}', ..) => (Token::Close, 1),
            ('[', ..) => (Token::OpenBracket, 1),
            (']', ..) => (Token::CloseBracket, 1),
            (';', ..) => (Token::Semicolon, 1),
            (',', ..) => (Token::Comma, 1),
            ('=', ..) => (Token::Equals, 1),
            (':', ..) => (Token::Colon, 1),
            ('-', Some('>'), _) => (Token::Arrow, 2),
            ('-', Some('-'), _) => (Token::Undirected, 2),
            ('<', Some('-'), Some('>')) => (Token::Bidirected, 3),
            ('<', Some('-'), _) => (Token::BackArrow, 2),
            _ => {
                if c.is_whitespace() {
                    cur.bump();
                } else if c == '#' || c == '/' && next == Some('/') {
                    while cur.peek(0).is_some_and(|ch| ch != '\n') {
                        cur.bump();
                    }
                } else if c == '/' && next == Some('*') {
                    block_comment(&mut cur, start)?;
                } else if c == '"' {
                    tokens.push(Lexed {
                        token: quoted(&mut cur, start)?,
                        line: start.0,
                        column: start.1,
                    });
                } else if c == '<' {
                    html(&mut cur, start)?;
                    tokens.push(Lexed {
                        token: Token::Html,
                        line: start.0,
                        column: start.1,
                    });
                } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' {
                    let mut text = String::new();
                    while let Some(ch) = cur.peek(0) {
                        if ch.is_alphanumeric()
                            || ch == '_'
                            || ch == '.'
                            || (ch == '-' && text.is_empty())
                        {
                            text.push(ch);
                            cur.bump();
                        } else {
                            break;
                        }
                    }
                    tokens.push(Lexed {
                        token: Token::Id {
                            text,
                            quoted: false,
                        },
                        line: start.0,
                        column: start.1,
                    });
                } else {
                    return Err((start, format!("unexpected character {c:?}")));
                }
                continue;
            }
        };
        for _ in 0..width {
            cur.bump();
        }
        tokens.push(Lexed {
            token,
            line: start.0,
            column: start.1,
        });
    }
    Ok((tokens, (cur.line, cur.column)))
}

/// Skips a `/* */` comment starting at the cursor.
fn block_comment(cur: &mut Cursor, start: Position) -> Result<(), (Position, String)> {
    cur.bump();
    cur.bump();
    loop {
        match (cur.peek(0), cur.peek(1)) {
            (None, _) => return Err((start, "unterminated `/* */` comment".into())),
            (Some('*'), Some('/')) => {
                cur.bump();
                cur.bump();
                return Ok(());
            }
            _ => cur.bump(),
        }
    }
}

/// A `".."` string starting at the cursor.
fn quoted(cur: &mut Cursor, start: Position) -> Result<Token, (Position, String)> {
    cur.bump();
    let mut text = String::new();
    loop {
        match (cur.peek(0), cur.peek(1)) {
            (None, _) => return Err((start, "unterminated quoted name".into())),
            (Some('"'), _) => {
                cur.bump();
                return Ok(Token::Id { text, quoted: true });
            }
            (Some('\\'), Some(escaped @ ('"' | '\\'))) => {
                text.push(escaped);
                cur.bump();
                cur.bump();
            }
            (Some('\\'), Some('\n')) => {
                cur.bump();
                cur.bump();
            }
            (Some('\\'), Some('\r')) if cur.peek(2) == Some('\n') => {
                for _ in 0..3 {
                    cur.bump();
                }
            }
            (Some(other), _) => {
                text.push(other);
                cur.bump();
            }
        }
    }
}

/// Skips an HTML-like string `<..>` (its `<` and `>` balanced).
fn html(cur: &mut Cursor, start: Position) -> Result<(), (Position, String)> {
    let mut depth = 0usize;
    loop {
        match cur.peek(0) {
            None => return Err((start, "unterminated `<..>`".into())),
            Some('<') => depth += 1,
            Some('>') => depth -= 1,
            _ => {}
        }
        cur.bump();
        if depth == 0 {
            return Ok(());
        }
    }
}

/// Characters with their position.
struct Cursor {
    chars: Vec<char>,
    i: usize,
    line: usize,
    column: usize,
}

impl Cursor {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek(0) {
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }
}

/// The error for a file that is not UTF-8, at the first bad byte.
pub(super) fn not_utf8(bytes: &[u8], error: &std::str::Utf8Error, file: &Path) -> GraphError {
    let valid = &bytes[..error.valid_up_to()];
    let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
    let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // Everything before the bad byte is valid UTF-8, so this cannot fail.
    let column = 1 + std::str::from_utf8(&valid[start..]).map_or(0, |text| text.chars().count());
    GraphError::Parse {
        file: Some(file.to_path_buf()),
        line,
        column,
        message: format!(
            "the byte 0x{:02x} is not UTF-8; save the file as UTF-8",
            bytes[error.valid_up_to()]
        ),
    }
}
