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
/// links to the picture named by their alt text (Mastodon shows no inline images; an image
/// inside a link, or without an address, is its alt text alone), raw HTML in the source is
/// escaped away.
pub fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    // Links open around the current event, those made of images included; and links dropped
    // because they sat in a picture's alt text (one link per picture).
    let mut links = 0usize;
    let mut dropped_links = 0usize;
    // Each open image: `Some` (its address, and whether its alt text showed anything yet)
    // when it became a link, `None` when only its alt text is kept.
    let mut images: Vec<Option<(CowStr, bool)>> = Vec::new();
    let parser = Parser::new_ext(markdown, options).map(move |event| {
        let event = match event {
            // Raw HTML in Markdown is shown as text, never interpreted.
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        };
        match event {
            Event::Start(Tag::Heading { .. }) => Event::Html("<p><strong>".into()),
            Event::End(TagEnd::Heading(_)) => Event::Html("</strong></p>".into()),
            Event::Start(Tag::Link { .. }) if images.iter().any(Option::is_some) => {
                dropped_links += 1;
                Event::Text("".into())
            }
            Event::End(TagEnd::Link) if dropped_links > 0 => {
                dropped_links -= 1;
                Event::Text("".into())
            }
            Event::Start(Tag::Link { .. }) => {
                links += 1;
                event
            }
            Event::End(TagEnd::Link) => {
                links = links.saturating_sub(1);
                event
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                if links > 0 || dest_url.trim().is_empty() {
                    images.push(None);
                    return Event::Text("".into());
                }
                links += 1;
                images.push(Some((dest_url.clone(), false)));
                Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url,
                    title: "".into(),
                    id: "".into(),
                })
            }
            Event::End(TagEnd::Image) => match images.pop() {
                Some(Some((url, shown))) => {
                    links = links.saturating_sub(1);
                    if shown {
                        Event::End(TagEnd::Link)
                    } else {
                        // Without alt text the link is named by the picture's address.
                        Event::Html(format!("{}</a>", escape(&url)).into())
                    }
                }
                _ => Event::Text("".into()),
            },
            Event::Text(text) | Event::Code(text) if !images.is_empty() => {
                for (_, shown) in images.iter_mut().flatten() {
                    *shown |= !text.trim().is_empty();
                }
                Event::Text(text)
            }
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
            "# Звіт\n\nWe bought **two** [tourniquets](https://example.org).\n\n- one\n- two\n\n<script>alert(1)</script>\n\n![The receipt](https://e.org/a.png) ![](https://e.org/b.png?x=1&y=2) ![bad](javascript:alert(1))",
        );
        assert!(html.contains("<p><strong>Звіт</strong></p>"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org" rel="nofollow noopener noreferrer">tourniquets</a>"#), "{html}");
        assert!(html.contains("<ul>") && html.contains("<li>one</li>"));
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        // Pictures become links, named by their alt text or else their address.
        let link = |href: &str, text: &str| {
            format!(r#"<a href="{href}" rel="nofollow noopener noreferrer">{text}</a>"#)
        };
        assert!(
            html.contains(&link("https://e.org/a.png", "The receipt")),
            "{html}"
        );
        let b = "https://e.org/b.png?x=1&amp;y=2";
        assert!(html.contains(&link(b, b)), "{html}");
        assert!(
            html.contains(r#"<a rel="nofollow noopener noreferrer">bad</a>"#),
            "{html}"
        );

        // A badge inside a link stays one link; code or raw HTML as alt text names the link.
        let html = markdown_to_html(
            "[![Build](https://ci.example/b.svg)](https://ci.example) ![`code`](https://e.org/c.png) ![<b>](https://e.org/d.png) ![see [x](https://e.org/x)](https://e.org/e.png) ![]() ![alt]()",
        );
        assert!(
            html.contains(&link("https://ci.example", "Build")),
            "{html}"
        );
        assert!(!html.contains("b.svg"), "{html}");
        assert!(
            html.contains(&link("https://e.org/c.png", "code")),
            "{html}"
        );
        assert!(
            html.contains(&link("https://e.org/d.png", "&lt;b&gt;")),
            "{html}"
        );
        assert!(
            html.contains(&link("https://e.org/e.png", "see x")),
            "{html}"
        );
        assert!(!html.contains("https://e.org/x\""), "{html}");
        assert!(html.trim_end().ends_with(" alt</p>"), "{html}");
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
