//! Sayings with numbers in them, which a record keeps as words
//! (`chín người mười ý`, not `chín người 10 ý`).

use std::sync::LazyLock;

use crate::Phrase;
use crate::tokenize::key;

/// The sayings, each as the keys of its words.
static IDIOMS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    [
        "mười phân vẹn mười",
        "chín người mười ý",
        "năm lần bảy lượt",
        "năm thì mười họa",
        "năm thì mười hoạ",
        "ba chìm bảy nổi",
        "một mất mười được",
        "mười năm trồng cây",
        "trăm năm trồng người",
        "một nghìn lẻ một đêm",
        "nghìn lẻ một đêm",
        "trăm công nghìn việc",
        "ngàn năm văn hiến",
        "nghìn năm văn hiến",
        "mười lăm phút nổi tiếng",
    ]
    .iter()
    .map(|s| s.split_whitespace().map(key).collect())
    .collect()
});

/// The number of words of the saying that starts at word `i`, if one does.
pub(crate) fn at(ph: &Phrase<'_>, i: usize) -> Option<usize> {
    IDIOMS
        .iter()
        .find(|idiom| {
            idiom
                .iter()
                .enumerate()
                .all(|(k, w)| ph.words.get(i + k).is_some_and(|x| &x.key == w))
        })
        .map(Vec::len)
}
