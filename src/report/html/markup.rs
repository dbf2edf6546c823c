//! An auto-escaping HTML writer. Text and attribute values are always escaped; the only way to
//! write markup is [`Markup::raw`], which takes a `&'static str`: a literal in this program,
//! never data. So no byte from the wire or a log can reach the page as markup.
//!
//! Owns: escaping, and embedding JSON in a `<script type="application/json">` block. Does not
//! own: what the report says (see the parent module).

use serde::Serialize;

/// HTML under construction.
#[derive(Default)]
pub struct Markup {
    out: String,
}

impl Markup {
    pub fn into_string(self) -> String {
        self.out
    }

    /// Markup written in this program. `'static` keeps data out.
    pub fn raw(&mut self, s: &'static str) -> &mut Self {
        self.out.push_str(s);
        self
    }

    /// Text content, escaped.
    pub fn text(&mut self, s: &str) -> &mut Self {
        escape_into(&mut self.out, s);
        self
    }

    /// `<tag a="v" …>`, with every value escaped.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag>text</tag>`.
    pub fn elem(&mut self, tag: &'static str, text: &str) -> &mut Self {
        self.open(tag, &[]).text(text).close(tag)
    }

    /// A `<script type="application/json">` block holding `value`. Inside a script element
    /// only `</script` (and `<!--`) can end it, so `<`, `>` and `&` are written as JSON
    /// escapes, and U+2028/U+2029 too for old parsers.
    pub fn json_script(&mut self, id: &'static str, value: &impl Serialize) -> &mut Self {
        let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
        self.open("script", &[("type", "application/json"), ("id", id)]);
        for c in json.chars() {
            match c {
                '<' => self.out.push_str("\\u003c"),
                '>' => self.out.push_str("\\u003e"),
                '&' => self.out.push_str("\\u0026"),
                '\u{2028}' => self.out.push_str("\\u2028"),
                '\u{2029}' => self.out.push_str("\\u2029"),
                c => self.out.push(c),
            }
        }
        self.close("script")
    }
}

/// Escapes the five characters that matter in text and quoted attribute values.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut m = Markup::default();
        m.open("td", &[("title", "\"><img src=x onerror=alert(1)>")])
            .text("<script>alert('x')</script> & more")
            .close("td");
        assert_eq!(
            m.into_string(),
            "<td title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">\
             &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more</td>"
        );
    }

    #[test]
    fn json_cannot_close_its_script() {
        let mut m = Markup::default();
        m.json_script(
            "d",
            &vec!["</script><script>alert(1)</script>", "a\u{2028}b & c"],
        );
        let s = m.into_string();
        assert_eq!(s.matches("</script>").count(), 1, "{s}");
        assert!(s.ends_with("</script>"));
        let body = &s[s.find('>').map_or(0, |i| i + 1)..s.len() - "</script>".len()];
        let back: Vec<String> = serde_json::from_str(body).expect("still JSON");
        assert_eq!(back[0], "</script><script>alert(1)</script>");
        assert_eq!(back[1], "a\u{2028}b & c");
    }
}
