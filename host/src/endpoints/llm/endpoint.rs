//! The endpoint families that go through the full pipeline, and what the host knows of each.

use crate::pipeline::bindings::types;

/// The endpoint families that go through the full pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /chat/completions`.
    ChatCompletions,
    /// `POST /completions`.
    Completions,
    /// `POST /embeddings`.
    Embeddings,
    /// `POST /audio/speech`: the answer is audio, streamed through as it arrives.
    AudioSpeech,
    /// `POST /images/generations`.
    ImagesGenerations,
    /// `POST /audio/transcriptions`: a multipart upload; JSON, text or an event stream back.
    AudioTranscriptions,
    /// `POST /audio/translations`: a multipart upload; JSON or text back.
    AudioTranslations,
    /// `POST /images/edits`: a multipart upload.
    ImagesEdits,
    /// `POST /images/variations`: a multipart upload.
    ImagesVariations,
    /// `POST /moderations`.
    Moderations,
}

impl Endpoint {
    /// The name plugins see in `request-ctx.endpoint`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat.completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::AudioSpeech => "audio.speech",
            Endpoint::ImagesGenerations => "images.generations",
            Endpoint::AudioTranscriptions => "audio.transcriptions",
            Endpoint::AudioTranslations => "audio.translations",
            Endpoint::ImagesEdits => "images.edits",
            Endpoint::ImagesVariations => "images.variations",
            Endpoint::Moderations => "moderations",
        }
    }

    /// Whether its answers are generated text (chat and completions), which response guards see.
    pub fn generates_text(self) -> bool {
        matches!(self, Endpoint::ChatCompletions | Endpoint::Completions)
    }

    /// The endpoint as plugins see it.
    pub fn wit(self) -> types::Endpoint {
        match self {
            Endpoint::ChatCompletions => types::Endpoint::ChatCompletions,
            Endpoint::Completions => types::Endpoint::Completions,
            Endpoint::Embeddings => types::Endpoint::Embeddings,
            Endpoint::AudioSpeech => types::Endpoint::AudioSpeech,
            Endpoint::ImagesGenerations => types::Endpoint::ImagesGenerations,
            Endpoint::AudioTranscriptions => types::Endpoint::AudioTranscriptions,
            Endpoint::AudioTranslations => types::Endpoint::AudioTranslations,
            Endpoint::ImagesEdits => types::Endpoint::ImagesEdits,
            Endpoint::ImagesVariations => types::Endpoint::ImagesVariations,
            Endpoint::Moderations => types::Endpoint::Moderations,
        }
    }

    /// The path without the `/v1` prefix.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Embeddings => "/embeddings",
            Endpoint::AudioSpeech => "/audio/speech",
            Endpoint::ImagesGenerations => "/images/generations",
            Endpoint::AudioTranscriptions => "/audio/transcriptions",
            Endpoint::AudioTranslations => "/audio/translations",
            Endpoint::ImagesEdits => "/images/edits",
            Endpoint::ImagesVariations => "/images/variations",
            Endpoint::Moderations => "/moderations",
        }
    }

    /// Whether `stream: true` is allowed.
    pub fn streams(self) -> bool {
        matches!(
            self,
            Endpoint::ChatCompletions | Endpoint::Completions | Endpoint::AudioTranscriptions
        )
    }

    /// Whether the request is a multipart upload (else a JSON body).
    pub fn multipart(self) -> bool {
        matches!(
            self,
            Endpoint::AudioTranscriptions
                | Endpoint::AudioTranslations
                | Endpoint::ImagesEdits
                | Endpoint::ImagesVariations
        )
    }

    /// The file fields a request must have (one of them), for multipart endpoints.
    pub fn required_file(self) -> Option<&'static str> {
        match self {
            Endpoint::AudioTranscriptions | Endpoint::AudioTranslations => Some("file"),
            Endpoint::ImagesEdits | Endpoint::ImagesVariations => Some("image"),
            _ => None,
        }
    }

    /// Whether a successful answer with `content_type` is JSON (read for usage, given the
    /// metadata object) rather than bytes passed through (audio; transcripts as text, SRT or
    /// WebVTT). `json_asked` is the request's own view, for an answer without a content type.
    pub fn answer_is_json(self, content_type: Option<&str>, json_asked: bool) -> bool {
        match self {
            Endpoint::AudioSpeech => false,
            Endpoint::AudioTranscriptions | Endpoint::AudioTranslations => match content_type {
                Some(c) => c.contains("json"),
                None => json_asked,
            },
            _ => true,
        }
    }

    /// Whether streams of this endpoint are transcript events (`transcript.text.delta` and
    /// `transcript.text.done`, no chat chunks).
    pub fn transcript_stream(self) -> bool {
        self == Endpoint::AudioTranscriptions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_are_json_only_when_they_say_so() {
        let t = Endpoint::AudioTranscriptions;
        assert!(t.answer_is_json(Some("application/json"), false));
        assert!(!t.answer_is_json(Some("text/plain; charset=utf-8"), true));
        assert!(t.answer_is_json(None, true));
        assert!(!Endpoint::AudioSpeech.answer_is_json(Some("application/json"), true));
        assert!(Endpoint::Moderations.answer_is_json(None, false));
        assert!(Endpoint::ImagesEdits.multipart() && !Endpoint::Moderations.multipart());
        assert_eq!(Endpoint::ImagesVariations.required_file(), Some("image"));
        assert!(t.streams() && !Endpoint::AudioTranslations.streams());
    }
}
