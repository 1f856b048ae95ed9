//! Names, methods and paths of the [`Endpoint`] a request was made to.

use crate::Endpoint;
use std::fmt;

impl Endpoint {
    /// Every endpoint, in the order of the WIT enum.
    pub const ALL: [Endpoint; 17] = [
        Endpoint::ChatCompletions,
        Endpoint::Completions,
        Endpoint::Embeddings,
        Endpoint::Models,
        Endpoint::AudioSpeech,
        Endpoint::ImagesGenerations,
        Endpoint::Files,
        Endpoint::Batches,
        Endpoint::Mcp,
        Endpoint::Usage,
        Endpoint::Messages,
        Endpoint::Responses,
        Endpoint::AudioTranscriptions,
        Endpoint::AudioTranslations,
        Endpoint::ImagesEdits,
        Endpoint::ImagesVariations,
        Endpoint::Moderations,
    ];

    /// The endpoint's name, as usage records and error messages spell it: `chat.completions`,
    /// `completions`, `embeddings`, `models`, `audio.speech`, `images.generations` (the
    /// strings `sluice:plugin@0.1.0` sent), `files`, `batches`, `mcp`, `usage`, `messages`,
    /// `responses`, `audio.transcriptions`, `audio.translations`, `images.edits`,
    /// `images.variations` or `moderations`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat.completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Models => "models",
            Endpoint::AudioSpeech => "audio.speech",
            Endpoint::ImagesGenerations => "images.generations",
            Endpoint::Files => "files",
            Endpoint::Batches => "batches",
            Endpoint::Mcp => "mcp",
            Endpoint::Usage => "usage",
            Endpoint::Messages => "messages",
            Endpoint::Responses => "responses",
            Endpoint::AudioTranscriptions => "audio.transcriptions",
            Endpoint::AudioTranslations => "audio.translations",
            Endpoint::ImagesEdits => "images.edits",
            Endpoint::ImagesVariations => "images.variations",
            Endpoint::Moderations => "moderations",
        }
    }

    /// The endpoint named `name` (see [`Endpoint::as_str`]), if there is one.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The HTTP method clients use: `GET` for [`Endpoint::Models`] and [`Endpoint::Usage`],
    /// `POST` for the others
    /// (for [`Endpoint::Files`], the method of an upload; for [`Endpoint::Mcp`], the method that
    /// carries JSON-RPC messages: MCP clients also `GET` it to open the server's event stream and
    /// `DELETE` it to end their session).
    pub fn method(self) -> &'static str {
        match self {
            Endpoint::Models | Endpoint::Usage => "GET",
            _ => "POST",
        }
    }

    /// The endpoint's path without the `/v1` prefix, such as `/chat/completions`. For
    /// [`Endpoint::Models`] it is the list's path, `/models`; for [`Endpoint::Mcp`] it is the
    /// template `/mcp-servers/{name}/mcp`, where `{name}` is an `[[mcp_servers]]` name; for
    /// [`Endpoint::Usage`] it is the usage dashboard's API, `/dashboard/api/summary`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Embeddings => "/embeddings",
            Endpoint::Models => "/models",
            Endpoint::AudioSpeech => "/audio/speech",
            Endpoint::ImagesGenerations => "/images/generations",
            Endpoint::Files => "/files",
            Endpoint::Batches => "/batches",
            Endpoint::Mcp => "/mcp-servers/{name}/mcp",
            Endpoint::Usage => "/dashboard/api/summary",
            Endpoint::Messages => "/messages",
            Endpoint::Responses => "/responses",
            Endpoint::AudioTranscriptions => "/audio/transcriptions",
            Endpoint::AudioTranslations => "/audio/translations",
            Endpoint::ImagesEdits => "/images/edits",
            Endpoint::ImagesVariations => "/images/variations",
            Endpoint::Moderations => "/moderations",
        }
    }
}

impl fmt::Display for Endpoint {
    /// Writes [`Endpoint::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_paths_follow_the_names() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(e.as_str()), Some(e));
            assert_eq!(e.to_string(), e.as_str());
            if e == Endpoint::Mcp || e == Endpoint::Usage {
                continue;
            }
            assert_eq!(
                e.path().trim_start_matches('/').replace('/', "."),
                e.as_str()
            );
        }
        assert_eq!(Endpoint::Mcp.path(), "/mcp-servers/{name}/mcp");
        assert_eq!(Endpoint::Mcp.method(), "POST");
        assert_eq!(Endpoint::from_name("chat/completions"), None);
        assert_eq!(Endpoint::Models.method(), "GET");
        assert_eq!(Endpoint::Embeddings.method(), "POST");
    }
}
