//! Roman numerals, for `khóa` (the Assembly's term: `khóa XV`) and `chương`
//! (a law's chapters: `Chương II`).

/// `n` in Roman numerals, for 1 to 3999; `None` outside that range.
pub(crate) fn roman(n: u128) -> Option<String> {
    if !(1..=3999).contains(&n) {
        return None;
    }
    const TABLE: [(u128, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut out = String::new();
    for (value, letters) in TABLE {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::roman;

    #[test]
    fn numerals() {
        assert_eq!(roman(15).as_deref(), Some("XV"));
        assert_eq!(roman(14).as_deref(), Some("XIV"));
        assert_eq!(roman(1999).as_deref(), Some("MCMXCIX"));
        assert_eq!(roman(0), None);
        assert_eq!(roman(4000), None);
    }
}
