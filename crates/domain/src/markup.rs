//! Text to HTML: Markdown written by maintainers, and HTML received from other servers, both
//! reduced to the small set of tags Mastodon keeps, so what we show and send is safe everywhere.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

/// Tags kept in rendered and received HTML (Mastodon ≥ 4.2 keeps these in posts).
const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "span",
    "a",
    "del",
    "pre",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.tags(ALLOWED_TAGS.iter().copied().collect::<HashSet<_>>())
        .add_tag_attributes("a", ["href"])
        .add_tag_attributes("ol", ["start"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true);
    b
});

/// Renders a maintainer's Markdown to safe HTML. Headings become bold paragraphs, images
/// become their alt text, raw HTML in the source is escaped away.
pub fn markdown_to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let parser = Parser::new_ext(markdown, options).map(|event| {
        use pulldown_cmark::{Event, Tag, TagEnd};
        match event {
            Event::Start(Tag::Heading { .. }) => Event::Html("<p><strong>".into()),
            Event::End(TagEnd::Heading(_)) => Event::Html("</strong></p>".into()),
            // Raw HTML in Markdown is shown as text, never interpreted.
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        }
    });
    let mut out = String::with_capacity(markdown.len() * 5 / 4);
    html::push_html(&mut out, parser);
    sanitize_html(&out)
}

/// Reduces HTML from elsewhere (a remote server, a paste) to the allowed subset.
pub fn sanitize_html(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Strips all markup, for plain-text contexts (summaries, search snippets, titles).
pub fn html_to_text(html: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(html).to_string();
    // ammonia escapes text; undo the entity escaping for plain-text use.
    cleaned
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Escapes text for inclusion in HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_to_the_mastodon_subset() {
        let html = markdown_to_html(
            "# Звіт\n\nWe bought **two** [tourniquets](https://example.org).\n\n- one\n- two\n\n<script>alert(1)</script>\n\n![x](https://e.org/a.png)",
        );
        assert!(html.contains("<p><strong>Звіт</strong></p>"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org" rel="nofollow noopener noreferrer">tourniquets</a>"#), "{html}");
        assert!(html.contains("<ul>") && html.contains("<li>one</li>"));
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
    }

    #[test]
    fn remote_html_is_sanitised() {
        let html = sanitize_html(
            r#"<p onclick="x()">hi <a href="javascript:alert(1)">x</a><img src=x><iframe></iframe></p>"#,
        );
        assert_eq!(
            html,
            r#"<p>hi <a rel="nofollow noopener noreferrer">x</a></p>"#
        );
        assert_eq!(html_to_text("<p>a &amp; <b>b</b></p>"), "a & b");
    }
}
