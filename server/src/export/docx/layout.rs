//! The page and the styles of the printed record: A4 with the margins of
//! Vietnamese official texts, Times New Roman (which has every Vietnamese
//! letter), a footer numbering the pages, and the paragraph styles the
//! record uses. Agenda items and speakers are Word's own `Heading 1` and
//! `Heading 2` (style names `heading 1`/`heading 2`, outline levels 0 and
//! 1), so that Word's navigation pane, LibreOffice's navigator and a table
//! of contents find them.

use docx_rs::{
    AlignmentType, Docx, Footer, LineSpacing, PageMargin, PageNum, Paragraph, Run, RunFonts,
    SpecialIndentType, Style, StyleType,
};

/// The font of the whole record: what official Vietnamese texts are set
/// in, with every letter of Vietnamese.
pub const FONT: &str = "Times New Roman";

/// A4, in twentieths of a point.
pub const A4: (u32, u32) = (11_906, 16_838);

/// Style id of a speech's paragraphs.
pub const BODY: &str = "BodyText";
/// Style id of the masthead (the Assembly's name).
pub const MASTHEAD: &str = "Masthead";
/// Style id of the record's title.
pub const TITLE: &str = "Title";
/// Style id of the lines under the title (date, agenda note, version).
pub const SUBTITLE: &str = "Subtitle";
/// Style id of an agenda item's heading.
pub const HEADING_1: &str = "Heading1";
/// Style id of a speaker's line.
pub const HEADING_2: &str = "Heading2";
/// Style id of a scene note.
pub const NOTE: &str = "SceneNote";
/// Style id of the footer's paragraph.
pub const FOOTER: &str = "Footer";

/// The footer's paragraph's number; the body's follow it.
pub const FOOTER_PARAGRAPH: u32 = 1;

/// Paragraph number `n` as a `w14:paraId` (8 hex digits, below 0x80000000
/// as Word requires).
pub fn para_id(n: u32) -> String {
    format!("{:08X}", n & 0x7FFF_FFFF)
}

/// Twentieths of a point in a millimetre, rounded: margins are given in
/// millimetres as the Government's rules for official texts give them.
fn mm(millimetres: i32) -> i32 {
    (millimetres * 1440 * 10 + 127) / 254
}

fn fonts() -> RunFonts {
    RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT)
}

/// A paragraph style based on Normal, with `size` in half-points.
fn paragraph_style(id: &str, name: &str, size: usize) -> Style {
    Style::new(id, StyleType::Paragraph)
        .name(name)
        .based_on("Normal")
        .next("Normal")
        .size(size)
}

/// Keeps a heading on the page of the paragraph after it: a speaker's
/// name or an item's title is never the last line of a page.
fn keep_with_next(mut style: Style) -> Style {
    style.paragraph_property = style.paragraph_property.keep_next(true);
    style
}

/// The record's styles. docx-rs always writes an empty `Normal` (which
/// takes the defaults: Times New Roman, 13 pt); the speeches' paragraphs
/// are `Body Text`, justified with an indented first line as official
/// texts are.
fn styles(doc: Docx) -> Docx {
    let centred = |style: Style| {
        style.align(AlignmentType::Center).indent(
            Some(0),
            Some(SpecialIndentType::FirstLine(0)),
            None,
            None,
        )
    };
    let body = paragraph_style(BODY, "Body Text", 26)
        .align(AlignmentType::Both)
        .indent(
            Some(0),
            Some(SpecialIndentType::FirstLine(mm(10))),
            None,
            None,
        )
        .line_spacing(LineSpacing::new().before(0).after(120));
    let masthead = centred(paragraph_style(MASTHEAD, "Masthead", 24).bold());
    let title = centred(paragraph_style(TITLE, "Title", 32).bold())
        .line_spacing(LineSpacing::new().before(360).after(120));
    let subtitle = centred(paragraph_style(SUBTITLE, "Subtitle", 26).italic())
        .line_spacing(LineSpacing::new().before(0).after(60));
    let heading1 = keep_with_next(
        paragraph_style(HEADING_1, "heading 1", 28)
            .bold()
            .line_spacing(LineSpacing::new().before(360).after(120))
            .outline_lvl(0),
    );
    let heading2 = keep_with_next(
        paragraph_style(HEADING_2, "heading 2", 26)
            .bold()
            .line_spacing(LineSpacing::new().before(240).after(60))
            .outline_lvl(1),
    );
    let note = centred(paragraph_style(NOTE, "Scene note", 26).italic())
        .line_spacing(LineSpacing::new().before(0).after(120));
    let footer = centred(paragraph_style(FOOTER, "footer", 22))
        .line_spacing(LineSpacing::new().before(0).after(0));
    [
        body, masthead, title, subtitle, heading1, heading2, note, footer,
    ]
    .into_iter()
    .fold(doc.default_fonts(fonts()).default_size(26), |doc, style| {
        doc.add_style(style)
    })
}

/// The footer: "Trang N", N a PAGE field that Word and LibreOffice fill in.
fn footer() -> Footer {
    Footer::new().add_paragraph(
        Paragraph::new()
            .id(para_id(FOOTER_PARAGRAPH))
            .style(FOOTER)
            .add_run(Run::new().add_text("Trang "))
            .add_page_num(PageNum::new()),
    )
}

/// An empty record on A4 with its margins (top and bottom 20 mm, left
/// 30 mm, right 20 mm: the Government's rules for official texts), its
/// styles and its numbered footer.
pub fn page() -> Docx {
    let margins = PageMargin::new()
        .top(mm(20))
        .bottom(mm(20))
        .left(mm(30))
        .right(mm(20))
        .header(mm(10))
        .footer(mm(10))
        .gutter(0);
    styles(Docx::new())
        .page_size(A4.0, A4.1)
        .page_margin(margins)
        .footer(footer())
}
