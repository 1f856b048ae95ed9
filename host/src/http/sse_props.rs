//! Property tests of the SSE framer: any split of a valid stream reassembles to the same events,
//! and any bytes at all frame the same in one piece as in many, without a panic.

use super::{Event, Framer};
use proptest::prelude::*;

/// Frames `stream` cut at `cuts` (offsets, any order, duplicates allowed), then finishes.
fn frame(stream: &[u8], cuts: &[usize]) -> Vec<Event> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    let mut f = Framer::default();
    let mut events = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain(std::iter::once(stream.len())) {
        events.extend(f.push(&stream[from..cut]).expect("within the size limit"));
        from = cut;
    }
    events.extend(f.finish());
    events
}

/// One event as a test writes it: an optional type and its data lines.
#[derive(Debug, Clone)]
struct Written {
    event: Option<String>,
    id: Option<String>,
    lines: Vec<String>,
}

fn written() -> impl Strategy<Value = Written> {
    // Data lines are any text without line breaks (multi-byte characters included).
    let line = proptest::string::string_regex("[^\r\n]{0,24}").expect("regex");
    (
        proptest::option::of("[a-z_.]{1,16}"),
        proptest::option::of("[0-9a-f]{1,8}"),
        proptest::collection::vec(line, 1..4),
    )
        .prop_map(|(event, id, lines)| Written { event, id, lines })
}

fn encode(events: &[Written], eol: &str, comments: bool) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        if comments {
            out.push_str(": keep-alive");
            out.push_str(eol);
            out.push_str(eol);
        }
        if let Some(id) = &e.id {
            out.push_str(&format!("id: {id}{eol}"));
        }
        if let Some(name) = &e.event {
            out.push_str(&format!("event: {name}{eol}"));
        }
        for l in &e.lines {
            out.push_str(&format!("data: {l}{eol}"));
        }
        out.push_str(eol);
    }
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_split_of_a_valid_stream_reassembles_to_the_same_events(
        events in proptest::collection::vec(written(), 0..8),
        eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        comments in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let stream = encode(&events, eol, comments);
        let framed = frame(&stream, &cuts);
        let want: Vec<Event> = events
            .iter()
            .map(|e| Event {
                event: e.event.clone(),
                id: e.id.clone(),
                data: e.lines.join("\n"),
            })
            .collect();
        prop_assert_eq!(framed, want);
    }

    #[test]
    fn any_bytes_frame_alike_whole_or_split_and_never_panic(
        // Mostly the bytes that matter to the framer, and some of anything.
        bytes in proptest::collection::vec(
            prop_oneof![
                4 => proptest::sample::select(b"\r\n:data evnt id".to_vec()),
                1 => any::<u8>(),
            ],
            0..256,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        prop_assert_eq!(frame(&bytes, &cuts), frame(&bytes, &[]));
    }
}
