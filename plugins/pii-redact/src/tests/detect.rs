//! Each kind: what it finds, and the near misses it leaves alone.

use super::redacted;

/// Asserts that each of `cases` (as a whole, between spaces) is redacted to `[TAG]`.
fn finds(tag: &str, cases: &[&str]) {
    for case in cases {
        let text = format!("see {case} now");
        assert_eq!(redacted(&text), format!("see [{tag}] now"), "{case:?}");
    }
}

/// Asserts that each of `cases` is left alone.
fn leaves(cases: &[&str]) {
    for case in cases {
        let text = format!("see {case} now");
        assert_eq!(redacted(&text), text, "{case:?}");
    }
}

#[test]
fn emails() {
    finds(
        "EMAIL",
        &[
            "bob@example.com",
            "first.last+tag@sub.example.co.uk",
            "a_b-c%d@x-y.io",
            "UPPER@EXAMPLE.ORG",
            "12345@numbers.net",
        ],
    );
    assert_eq!(redacted("(bob@example.com)."), "([EMAIL]).");
    assert_eq!(redacted("<bob@example.com>"), "<[EMAIL]>");
    assert_eq!(redacted("...bob@example.com"), "...[EMAIL]");
    assert_eq!(redacted("mailto:bob@example.com"), "mailto:[EMAIL]");
    assert_eq!(redacted("bob@example.com-"), "[EMAIL]-");
    assert_eq!(redacted("über bob@example.com"), "über [EMAIL]");
}

#[test]
fn email_near_misses() {
    leaves(&[
        "bob@localhost",
        "bob@example",
        "@example.com",
        "bob@.com",
        "bob@example.c",
        "bob@example.c0m",
        "bob@ex..com",
        "bob@-example.com",
        "user@@x.com",
        "@handle",
        "a @ b.com",
        "bob@example.comé",
    ]);
}

#[test]
fn cards() {
    finds(
        "CARD",
        &[
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5555555555554444",
            "3782 822463 10005",
            "378282246310005",
            "6011 0009 9013 9424",
            "4222222222222",
            "30569309025904",
            "4000 0566 5566 5556",
            "6304 0000 0000 0000 018",
        ],
    );
    assert_eq!(
        redacted("4111111111111111 5555555555554444"),
        "[CARD] [CARD]",
        "two cards split by a space"
    );
    assert_eq!(redacted("card:4111111111111111."), "card:[CARD].");
    assert_eq!(redacted("order 12 4111 1111 1111 1111"), "order 12 [CARD]");
}

#[test]
fn card_near_misses() {
    leaves(&[
        "4111111111111112",
        "4111 1111 1111 1112",
        "5555555555554445",
        "1234567890128",
        "1700000000004",
        "7111111111111114",
        "411111111111",
        "41111111111111111111",
        "4111 1111 1111 11 11",
        "4111  1111 1111 1111",
        "x4111111111111111",
        "4111111111111111x",
        "0.4111111111111111",
        "4111111111111111.5",
        "+4111111111111111",
    ]);
}

#[test]
fn luhn_and_mod97() {
    use crate::iban::mod97;
    use crate::scan::luhn;
    assert!(luhn(b"79927398713"));
    assert!(!luhn(b"79927398710"));
    assert!(mod97(b"GB82WEST12345698765432"));
    assert!(!mod97(b"GB83WEST12345698765432"));
    assert!(!mod97(b"GB"));
}

#[test]
fn ibans() {
    finds(
        "IBAN",
        &[
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "GB82 WEST 1234 5698 7654 32",
            "FR1420041010050500013M02606",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "NO9386011117947",
            "CH9300762011623852957",
            "ZZ591234567890123456",
            "QQ70 ABCD 1234 5678 9012 34",
        ],
    );
    assert_eq!(
        redacted("IBAN: DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"),
        "IBAN: [IBAN], BIC COBADEFFXXX"
    );
    // A known length ends the IBAN even when a capitalised word follows in groups of four.
    assert_eq!(redacted("NL91 ABNA 0417 1643 00 OK"), "[IBAN] OK");
    assert_eq!(redacted("BE68 5390 0754 7034 CASH"), "[IBAN] CASH");
}

#[test]
fn iban_near_misses() {
    leaves(&[
        "DE89370400440532013001",
        "DE88370400440532013000",
        "GB82WEST12345698765431",
        "DE8937040044053201300",
        "DE893704004405320130000",
        "de89370400440532013000",
        "DE89 3704 0044 0532 0130 0",
        "DE89 37040044 0532 0130 00",
        "DE89  3704 0044 0532 0130 00",
        "XDE89370400440532013000",
        "DE89370400440532013000x",
        "ZZ59123456789012345",
        "ABCD",
        "AB12",
    ]);
}

#[test]
fn phones() {
    finds(
        "PHONE",
        &[
            "+1 555 123 4567",
            "+1-555-123-4567",
            "+1 (555) 123-4567",
            "+44 20 7946 0958",
            "+44 (0)20 7946 0958",
            "+49 30 12345678",
            "+4915112345678",
            "+33 1 23 45 67 89",
            "(555) 123-4567",
            "555-123-4567",
            "555 123 4567",
            "555.123.4567",
            "1-800-555-1234",
            "0171 1234567",
            "020 7946 0958",
            "0044 20 7946 0958",
            "01 23 45 67 89",
            "612-345-678",
        ],
    );
    assert_eq!(redacted("tel:+1-555-123-4567."), "tel:[PHONE].");
    assert_eq!(redacted("call 555-123-4567, or"), "call [PHONE], or");
    assert_eq!(redacted("phone=555-123-4567"), "phone=[PHONE]");
}

#[test]
fn phone_near_misses() {
    leaves(&[
        // dates and times
        "2024-01-15",
        "15.01.2024",
        "2024.01.15",
        "2024-01-15 10:30",
        "01/15/2024",
        "12:30:45",
        "10:30-11:45",
        // years, ranges, short and plain numbers
        "1999",
        "1990-2000",
        "2023 2024",
        "12345",
        "123-4567",
        "5551234567",
        "+1234",
        // versions, IP addresses, decimals
        "v1.2.3",
        "1.22.333",
        "10.0.19041.1234",
        "192.168.100.200",
        "3.141592653",
        // thousands separators, ISBNs, card-like
        "1 234 567",
        "12 345 678",
        "100 000 000",
        "1,234,567",
        "978-3-16-148410-0",
        "4111 1111 1111 1112",
        "4111 1111 1111 2",
        "3782 822463 10006",
        // inside tokens
        "x555-123-4567",
        "555-123-4567x",
        "555-123-4567@",
        "id/555-123-4567",
        "555-123-4567/12",
        "1.555-123-4567",
    ]);
}

#[test]
fn overlaps_go_to_the_first_of_email_iban_card_phone() {
    assert_eq!(redacted("5551234567@sms.example.com"), "[EMAIL]");
    assert_eq!(redacted("555-123-4567.x@example.com"), "[EMAIL]");
    assert_eq!(redacted("4111111111111111@example.com"), "[EMAIL]");
}
