//! What the server benchmarks share: a logged-in HTTP client over
//! loopback, and latency percentiles.

use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Milliseconds at a percentile of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Prints one line of latencies (ms): count, rate over `seconds`, p50, p95, p99, max.
pub fn report(name: &str, samples: &mut [f64], seconds: f64) {
    samples.sort_by(f64::total_cmp);
    println!(
        "{name:<28} {:>7} req {:>8.1}/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        samples.len(),
        samples.len() as f64 / seconds,
        percentile(samples, 0.5),
        percentile(samples, 0.95),
        percentile(samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN),
    );
}

/// A logged-in client of the review server.
pub struct Client {
    /// The connection pool.
    pub http: reqwest::Client,
    /// `http://ADDR`.
    pub base: String,
    /// The login cookie (`name=value`).
    pub cookie: String,
    /// The CSRF token that state-changing requests carry.
    pub csrf: String,
}

impl Client {
    /// Logs in as `user` with `password`.
    pub async fn login(base: &str, user: &str, password: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        let response = http
            .post(format!("{base}/api/login"))
            .header("content-type", "application/json")
            .body(serde_json::json!({"username": user, "password": password}).to_string())
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("login {user}: {}", response.status());
        }
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("no cookie")?
            .to_owned();
        let me: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
        let csrf = me["csrf_token"]
            .as_str()
            .context("no csrf token")?
            .to_owned();
        Ok(Self {
            http,
            base: base.to_owned(),
            cookie,
            csrf,
        })
    }

    /// Runs one GET; returns its latency in ms.
    pub async fn timed_get(&self, path: &str) -> Result<f64> {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if !status.is_success() {
            bail!("GET {path}: {status}");
        }
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }

    /// Sends JSON with `method`; returns the latency in ms, the status and
    /// the answer (null when empty).
    pub async fn timed_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(f64, reqwest::StatusCode, serde_json::Value)> {
        let started = Instant::now();
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).with_context(|| format!("{path}: not JSON"))?
        };
        Ok((ms, status, value))
    }
}
