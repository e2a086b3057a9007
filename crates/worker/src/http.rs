//! A server's `/api/worker` routes as a queue, for `tocky worker` on
//! another machine: no database there, the audio downloaded (resumably)
//! into the job's working folder.
//!
//! The protocol (docs/api.md, "Workers"): every request carries
//! `Authorization: Bearer <API key>`; the job's routes carry the lease
//! token (in the JSON body, or the `Tocky-Lease` header for the audio).
//! A lost lease is answered 409.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use tocky_core::document::TranscriptDocument;
use tocky_store::Claim;

use crate::queue::{Completed, Queue};
use crate::{Error, Result};

/// The header that carries a lease token where there is no body.
pub const LEASE_HEADER: &str = "tocky-lease";

/// `POST /api/worker/claim`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The worker's name.
    pub worker: String,
    /// The lease asked for, ms.
    pub lease_ms: u64,
}

/// `POST /api/worker/jobs/{id}/heartbeat`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    /// The lease's token.
    pub lease_token: String,
    /// 0 to 1.
    pub progress: f64,
    /// A new checkpoint, when it changed.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// The renewed lease, ms.
    pub lease_ms: u64,
}

/// `POST /api/worker/jobs/{id}/complete`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CompleteRequest {
    /// The lease's token.
    pub lease_token: String,
    /// The transcript.
    pub document: TranscriptDocument,
}

/// The answer to a completion.
#[derive(Debug, Serialize, Deserialize)]
pub struct CompleteResponse {
    /// The session the job became.
    pub session_id: i64,
    /// Whether it was ingested now.
    pub created: bool,
}

/// `POST /api/worker/jobs/{id}/fail`.
#[derive(Debug, Serialize, Deserialize)]
pub struct FailRequest {
    /// The lease's token.
    pub lease_token: String,
    /// Why.
    pub reason: String,
    /// Whether another attempt may succeed.
    pub retryable: bool,
}

/// A server's worker routes.
pub struct HttpQueue {
    base: String,
    token: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

/// How long one request may take (a download's chunks each, not all).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an error body is quoted.
const MAX_QUOTED: usize = 300;

impl HttpQueue {
    /// A queue at `server` (`http://host:port`), authenticated with the
    /// API key `token`.
    pub fn new(server: &str, token: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the HTTP client's runtime", e))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error::Server(format!("the HTTP client: {e}")))?;
        Ok(Self {
            base: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            client,
            runtime,
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends a JSON body; the answer's status and body.
    fn post(&self, path: &str, body: &impl Serialize) -> Result<(StatusCode, Vec<u8>)> {
        let body = serde_json::to_vec(body).map_err(|e| Error::Protocol(e.to_string()))?;
        self.runtime.block_on(async {
            let response = self
                .request(Method::POST, path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| Error::Server(format!("POST {path}: {}", chain(&e))))?;
            let status = response.status();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| Error::Server(format!("POST {path}: {}", chain(&e))))?;
            Ok((status, bytes.to_vec()))
        })
    }

    /// `status` as an error of job `job`: 409 a lost lease.
    fn refused(job: Option<i64>, what: &str, status: StatusCode, body: &[u8]) -> Error {
        if let (Some(job), StatusCode::CONFLICT) = (job, status) {
            return Error::LeaseLost(job);
        }
        let text = String::from_utf8_lossy(body);
        let text: String = text.chars().take(MAX_QUOTED).collect();
        Error::Server(format!("{what}: the server answered {status}: {text}"))
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    tocky_batch::error_chain(e)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Queue for HttpQueue {
    fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        let request = ClaimRequest {
            worker: worker.to_owned(),
            lease_ms: ms(lease),
        };
        let (status, body) = self.post("/api/worker/claim", &request)?;
        match status {
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::OK => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| Error::Protocol(format!("a claim: {e}"))),
            _ => Err(Self::refused(None, "claiming a job", status, &body)),
        }
    }

    fn audio(&self, claim: &Claim, cache: &Path) -> Result<PathBuf> {
        let job = claim.job.id;
        let extension = Path::new(&claim.job.audio.name)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.len() <= 8 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or("bin");
        let done = cache.join(format!("source.{extension}"));
        let partial = cache.join(format!("source.{extension}.partial"));
        let want = claim.job.audio.bytes;
        if std::fs::metadata(&done).is_ok_and(|m| m.len() == want) {
            return Ok(done);
        }
        let path = format!("/api/worker/jobs/{job}/audio");
        self.runtime.block_on(async {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&partial)
                .map_err(|e| Error::io(format!("opening {}", partial.display()), e))?;
            let have = file
                .metadata()
                .map_err(|e| Error::io(format!("reading {}", partial.display()), e))?
                .len();
            let mut request = self
                .request(Method::GET, &path)
                .header(LEASE_HEADER, &claim.lease_token);
            if have > 0 && have < want {
                // Resume where the last download stopped.
                request = request.header(header::RANGE, format!("bytes={have}-"));
            }
            let mut response = request
                .send()
                .await
                .map_err(|e| Error::Server(format!("GET {path}: {}", chain(&e))))?;
            let status = response.status();
            match status {
                StatusCode::PARTIAL_CONTENT if have > 0 => {}
                StatusCode::OK => {
                    // The whole file: what was there is dropped.
                    file.set_len(0)
                        .map_err(|e| Error::io(format!("truncating {}", partial.display()), e))?;
                }
                StatusCode::NOT_FOUND | StatusCode::GONE => {
                    return Err(Error::Audio {
                        job,
                        reason: format!("the server has no audio for it ({status})"),
                    });
                }
                _ => {
                    let body = response.bytes().await.unwrap_or_default();
                    return Err(Self::refused(
                        Some(job),
                        "downloading the audio",
                        status,
                        &body,
                    ));
                }
            }
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| Error::Server(format!("GET {path}: {}", chain(&e))))?
            {
                file.write_all(&chunk)
                    .map_err(|e| Error::io(format!("writing {}", partial.display()), e))?;
            }
            file.sync_all()
                .map_err(|e| Error::io(format!("writing {}", partial.display()), e))?;
            Ok(())
        })?;
        let got = std::fs::metadata(&partial).map_or(0, |m| m.len());
        if got != want {
            return Err(Error::Server(format!(
                "job {job}: the audio download stopped at {got} of {want} bytes"
            )));
        }
        std::fs::rename(&partial, &done)
            .map_err(|e| Error::io(format!("renaming {}", partial.display()), e))?;
        Ok(done)
    }

    fn heartbeat(
        &self,
        claim: &Claim,
        progress: f64,
        checkpoint: Option<&str>,
        lease: Duration,
    ) -> Result<()> {
        let job = claim.job.id;
        let request = HeartbeatRequest {
            lease_token: claim.lease_token.clone(),
            progress,
            checkpoint: checkpoint.map(str::to_owned),
            lease_ms: ms(lease),
        };
        let (status, body) = self.post(&format!("/api/worker/jobs/{job}/heartbeat"), &request)?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Self::refused(Some(job), "a heartbeat", status, &body))
        }
    }

    fn complete(&self, claim: &Claim, doc: &TranscriptDocument) -> Result<Completed> {
        let job = claim.job.id;
        let request = CompleteRequest {
            lease_token: claim.lease_token.clone(),
            document: doc.clone(),
        };
        let (status, body) = self.post(&format!("/api/worker/jobs/{job}/complete"), &request)?;
        if !status.is_success() {
            return Err(Self::refused(
                Some(job),
                "completing the job",
                status,
                &body,
            ));
        }
        let answer: CompleteResponse = serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("a completion: {e}")))?;
        Ok(Completed {
            session_id: answer.session_id,
            created: answer.created,
        })
    }

    fn fail(&self, claim: &Claim, reason: &str, retryable: bool) -> Result<()> {
        let job = claim.job.id;
        let request = FailRequest {
            lease_token: claim.lease_token.clone(),
            reason: reason.to_owned(),
            retryable,
        };
        let (status, body) = self.post(&format!("/api/worker/jobs/{job}/fail"), &request)?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Self::refused(Some(job), "failing the job", status, &body))
        }
    }
}
