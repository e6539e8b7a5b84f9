//! Taking part in events: the replies that mean "going" and "not going" in each language, and
//! where someone stands after answering.

use crate::objects::text::text_of;
use copse_entities::community;

/// Replies that mean "going" and "not going", by language. Matched whole, after the leading
/// mentions, case and trailing punctuation are dropped; English always counts.
const ANSWERS: &[(&str, &[&str], &[&str])] = &[
    (
        "en",
        &[
            "going",
            "i'm going",
            "im going",
            "i am going",
            "yes",
            "attending",
            "count me in",
            "i'll be there",
            "ill be there",
            "see you there",
        ],
        &[
            "not going",
            "i'm not going",
            "im not going",
            "i am not going",
            "no",
            "can't make it",
            "cant make it",
            "cannot make it",
            "can't go",
            "not attending",
        ],
    ),
    (
        "fr",
        &[
            "je viens",
            "j'y serai",
            "je participe",
            "présent",
            "présente",
            "oui",
        ],
        &[
            "je ne viens pas",
            "je ne viens plus",
            "je ne pourrai pas",
            "absent",
            "absente",
            "non",
        ],
    ),
    (
        "de",
        &["ich komme", "bin dabei", "dabei", "zusage", "ja"],
        &["ich komme nicht", "nicht dabei", "absage", "nein"],
    ),
    (
        "es",
        &["voy", "asistiré", "allí estaré", "sí", "si"],
        &["no voy", "no puedo ir", "no"],
    ),
    (
        "it",
        &["ci sarò", "vengo", "partecipo", "sì"],
        &["non vengo", "non ci sarò", "no"],
    ),
    (
        "nl",
        &["ik kom", "ik ben erbij", "aanwezig", "ja"],
        &["ik kom niet", "afwezig", "nee"],
    ),
    (
        "pt",
        &["vou", "estarei lá", "presente", "sim"],
        &["não vou", "não posso ir", "não"],
    ),
    (
        "cy",
        &["dw i'n dod", "rydw i'n dod", "byddaf", "ydw"],
        &["dw i ddim yn dod", "nac ydw", "na"],
    ),
];

/// The primary subtags of a community's languages (`"en, cy"`), English first.
fn languages_of(c: &community::Model) -> Vec<String> {
    let mut langs = vec!["en".to_string()];
    for tag in c.languages.as_deref().unwrap_or_default().split(',') {
        let primary = tag
            .trim()
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !primary.is_empty() && !langs.contains(&primary) {
            langs.push(primary);
        }
    }
    langs
}

/// What a short reply says: `Some(true)` going, `Some(false)` not going, `None` neither (a
/// comment). Only the community's languages and English are read.
pub fn rsvp_intent(html: &str, c: &community::Model) -> Option<bool> {
    let text = text_of(html).replace(['’', '‘'], "'");
    let text = crate::objects::text::strip_mentions(&text).to_lowercase();
    // Punctuation and emoji go, apostrophes stay ("can't"); so do a leading "sorry".
    let kept: String = text
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() || ch == '\'' {
                ch
            } else {
                ' '
            }
        })
        .collect();
    let mut words: Vec<&str> = kept.split_whitespace().collect();
    while words.first().is_some_and(|w| {
        [
            "sorry",
            "unfortunately",
            "sadly",
            "désolé",
            "désolée",
            "sorri",
            "leider",
            "lo",
            "siento",
        ]
        .contains(w)
    }) {
        words.remove(0);
    }
    let text = words.join(" ");
    if text.is_empty() || text.chars().count() > 40 {
        return None;
    }
    let langs = languages_of(c);
    let table = ANSWERS
        .iter()
        .filter(|(l, _, _)| langs.iter().any(|x| x == l));
    for (_, going, not_going) in table {
        if not_going.contains(&text.as_str()) {
            return Some(false);
        }
        if going.contains(&text.as_str()) {
            return Some(true);
        }
    }
    None
}

/// How to answer by replying, in the community's languages: the line in an event's summary.
pub fn answer_hint(c: &community::Model) -> String {
    let mut hint = "Reply \"going\" or \"not going\" to answer".to_string();
    let others: Vec<String> = languages_of(c)
        .iter()
        .skip(1)
        .filter_map(|l| ANSWERS.iter().find(|(x, _, _)| x == l))
        .map(|(l, going, not_going)| format!("{l}: \"{}\" / \"{}\"", going[0], not_going[0]))
        .collect();
    if !others.is_empty() {
        hint.push_str(&format!(" ({})", others.join("; ")));
    }
    hint
}

/// Where someone stands after answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// They have a place.
    Going,
    /// The event is full; they are this far down the waiting list.
    Waiting(u64),
    /// A coordinator will decide (or, for a remote event, its server has not answered yet).
    Pending,
    /// Not accepted, and why.
    Refused(String),
    /// They are not going (any more).
    NotGoing,
}

impl Outcome {
    /// A short word for the API.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Going => "going",
            Self::Waiting(_) => "waiting",
            Self::Pending => "pending",
            Self::Refused(_) => "rejected",
            Self::NotGoing => "not_going",
        }
    }
}
