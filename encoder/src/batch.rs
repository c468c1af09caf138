//! Batch encoding of a photo archive through one [`EncodePlan`]: the inputs (files, folders, or whole
//! trees with `recursive`) become [`Job`]s whose outputs mirror the input tree under an output folder;
//! [`run`] encodes them in parallel, bounded by cores *and* by an estimated memory budget, writes each
//! output atomically, and reports every image, failure and skip. The `jndenc` binary's batch mode is
//! this module; library users (a Python or Dask front end) get the same behaviour.
//!
//! - Walking: a folder's image files (by extension) are taken, sorted; other files are reported as
//!   skipped (`unsupported`), never silently dropped. With `recursive`, subfolders are walked too and
//!   mirrored (`in/a/b/x.png` -> `out/a/b/x.jpg`); a symlinked folder is followed once, a folder already
//!   visited (a symlink loop) is reported and not entered again. jndenc's own temporary files
//!   (`.jndenc-*.tmp`) are never inputs.
//! - Resume: with `skip_existing`, an output that exists and is at least as new as its input is left
//!   alone (reported as `up to date`), and stale temporary files that a killed run left in the output
//!   tree are removed first; since writes are atomic and outputs deterministic, an interrupted run
//!   followed by a resumed one ends with the same files as one uninterrupted run.
//! - Memory: each job's peak is estimated from its header ([`EncodePlan::estimated_peak`]); a job
//!   starts only while the running jobs' estimates plus its own fit under `max_memory` (a job larger
//!   than the whole budget runs alone). `jobs` stays an upper bound.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Instant, SystemTime};

use rayon::prelude::*;

use crate::plan::{EncodePlan, Encoding};
use crate::{Error, Result};

/// File extensions batch mode treats as images (lower case).
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "png", "ppm", "pgm", "pnm", "pbm", "pam", "bmp", "tga", "gif", "jpg", "jpeg", "jpe", "heic", "heif",
    "tif", "tiff", "webp",
];

/// How a batch runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOptions {
    /// Walk subfolders of folder inputs and mirror them.
    pub recursive: bool,
    /// Leave outputs that exist and are at least as new as their inputs.
    pub skip_existing: bool,
    /// Images encoded at once, at most (0: one per core).
    pub jobs: usize,
    /// Memory budget in bytes for the images running at once (estimated from their headers).
    pub max_memory: u64,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self { recursive: false, skip_existing: false, jobs: 0, max_memory: default_memory_budget() }
    }
}

/// Half the machine's memory (`/proc/meminfo`), or 4 GiB where that cannot be read.
pub fn default_memory_budget() -> u64 {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    });
    total_kib.map_or(4 << 30, |kib| kib * 1024 / 2)
}

/// One input and where its output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input file.
    pub input: PathBuf,
    /// The output file.
    pub output: PathBuf,
}

/// Why an input was not encoded without being a failure of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Not an image file by its extension.
    Unsupported,
    /// A subfolder, without `recursive`.
    Folder,
    /// A folder already walked (a symlink loop or a second link to it).
    AlreadyVisited,
    /// The output exists and is at least as new as the input (`skip_existing`).
    UpToDate,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Unsupported => "not an image file jndenc reads (by its extension)",
            SkipReason::Folder => "a subfolder (give --recursive to walk it)",
            SkipReason::AlreadyVisited => "a folder already walked (symlink loop)",
            SkipReason::UpToDate => "its output is up to date",
        })
    }
}

/// An input that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The path.
    pub path: PathBuf,
    /// Why.
    pub reason: SkipReason,
}

/// The jobs of a batch, and what was skipped while listing them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Inputs to encode, in a stable order (inputs as given; folders sorted, depth first).
    pub jobs: Vec<Job>,
    /// Inputs left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Stale temporary files removed from the output tree (`skip_existing`).
    pub removed_temporaries: usize,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_our_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".jndenc-") && n.ends_with(".tmp"))
}

/// Lists the jobs for `inputs` (files and folders) with outputs under `outdir`, named after the
/// input with `extension`. Folder contents keep their path relative to the folder given.
pub fn list(inputs: &[PathBuf], outdir: &Path, extension: &str, options: &BatchOptions) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut visited = HashSet::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let before = listing.jobs.len();
            walk(input, Path::new(""), outdir, extension, options.recursive, &mut visited, &mut listing)?;
            if listing.jobs.len() == before && !listing.skipped.iter().any(|s| s.path.starts_with(input)) {
                return Err(Error::Parameter(format!("{} holds no image files", input.display())));
            }
        } else {
            let name = input.file_stem().unwrap_or(input.as_os_str());
            listing.jobs.push(Job {
                input: input.clone(),
                output: outdir.join(Path::new(name).with_extension(extension)),
            });
        }
    }
    for (i, job) in listing.jobs.iter().enumerate() {
        if let Some(first) = listing.jobs[..i].iter().find(|j| j.output == job.output) {
            return Err(Error::Parameter(format!(
                "{} and {} would both be written to {}",
                first.input.display(),
                job.input.display(),
                job.output.display()
            )));
        }
    }
    if options.skip_existing {
        listing.removed_temporaries = remove_temporaries(&listing.jobs);
        let (up_to_date, jobs): (Vec<Job>, Vec<Job>) =
            std::mem::take(&mut listing.jobs).into_iter().partition(up_to_date);
        listing.jobs = jobs;
        listing
            .skipped
            .extend(up_to_date.into_iter().map(|j| Skipped { path: j.input, reason: SkipReason::UpToDate }));
    }
    Ok(listing)
}

fn walk(
    root: &Path,
    relative: &Path,
    outdir: &Path,
    extension: &str,
    recursive: bool,
    visited: &mut HashSet<PathBuf>,
    listing: &mut Listing,
) -> Result<()> {
    let folder = root.join(relative);
    let canonical = folder.canonicalize().map_err(|e| Error::io(&folder, e))?;
    if !visited.insert(canonical) {
        listing.skipped.push(Skipped { path: folder, reason: SkipReason::AlreadyVisited });
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| Error::io(&folder, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().map(PathBuf::from) else { continue };
        if is_our_temporary(&path) {
            continue;
        }
        // Follows symlinks: a linked folder is walked (once), a linked file encoded.
        let is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            if recursive {
                walk(root, &relative.join(&name), outdir, extension, recursive, visited, listing)?;
            } else {
                listing.skipped.push(Skipped { path, reason: SkipReason::Folder });
            }
        } else if is_image(&path) {
            let output = outdir.join(relative).join(name.with_extension(extension));
            listing.jobs.push(Job { input: path, output });
        } else {
            listing.skipped.push(Skipped { path, reason: SkipReason::Unsupported });
        }
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn up_to_date(job: &Job) -> bool {
    match (modified(&job.output), modified(&job.input)) {
        (Some(output), Some(input)) => output >= input,
        _ => false,
    }
}

/// Removes `.jndenc-*.tmp` files in the folders the jobs write to (left by a killed run).
fn remove_temporaries(jobs: &[Job]) -> usize {
    let folders: HashSet<&Path> = jobs.iter().filter_map(|j| j.output.parent()).collect();
    let mut removed = 0;
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(folder) else { continue };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if is_our_temporary(&path) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// A counting budget: jobs take their estimate before they start and give it back when done.
struct Budget {
    limit: u64,
    /// (bytes taken, jobs running, most jobs seen running at once).
    state: Mutex<(u64, usize, usize)>,
    freed: Condvar,
}

impl Budget {
    /// Waits until `need` fits beside the running jobs (or nothing runs), then takes it.
    fn acquire(&self, need: u64) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while state.1 > 0 && state.0 + need > self.limit {
            state = self.freed.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        state.0 += need;
        state.1 += 1;
        state.2 = state.2.max(state.1);
    }

    fn release(&self, need: u64) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.0 = state.0.saturating_sub(need);
        state.1 -= 1;
        self.freed.notify_all();
    }
}

/// One job's result.
#[derive(Debug)]
pub struct Outcome {
    /// The job.
    pub job: Job,
    /// Its encoding (already written to `job.output`), or the error that stopped it.
    pub result: Result<Encoding>,
}

/// What [`run`] did.
#[derive(Debug)]
pub struct Run {
    /// One outcome per job, in the jobs' order.
    pub outcomes: Vec<Outcome>,
    /// The most images that were being encoded at the same time (measured by the budget).
    pub max_running: usize,
}

/// Encodes every job with `plan` (at most `options.jobs` at once and within the memory budget),
/// writing each output atomically (creating its folder). `progress` is called as each job ends, from
/// the worker thread. Outcomes come back in the jobs' order; the output bytes do not depend on the
/// parallelism.
pub fn run(
    plan: &EncodePlan,
    jobs: Vec<Job>,
    options: &BatchOptions,
    progress: impl Fn(&Outcome) + Sync,
) -> Result<Run> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .map_err(|e| Error::Parameter(format!("starting the worker threads: {e}")))?;
    let budget = Budget { limit: options.max_memory, state: Mutex::new((0, 0, 0)), freed: Condvar::new() };
    // Several pictures at once share the cores: a lone candidate's metrics then run one after the
    // other (`AutoOptions::side_by_side`).
    let own_cores = pool.current_num_threads() <= 1 || jobs.len() <= 1;
    let outcomes = pool.install(|| {
        jobs.into_par_iter()
            .map(|job| {
                let result = encode_job(plan, &job, &budget, own_cores);
                let outcome = Outcome { job, result };
                progress(&outcome);
                outcome
            })
            .collect()
    });
    let max_running = budget.state.lock().map_or(0, |s| s.2);
    Ok(Run { outcomes, max_running })
}

/// This process's peak resident memory in bytes (`VmHWM` in `/proc/self/status`; `None` elsewhere).
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 =
        status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Encodes one job; `own_cores`: whether it runs alone (one worker, or one job).
fn encode_job(plan: &EncodePlan, job: &Job, budget: &Budget, own_cores: bool) -> Result<Encoding> {
    let started = Instant::now();
    let bytes = std::fs::read(&job.input).map_err(|e| Error::io(&job.input, e))?;
    let need = plan.estimated_peak(&bytes);
    budget.acquire(need);
    let result = (|| {
        let image = plan.decode(&bytes)?;
        let (input, output) = (job.input.display().to_string(), job.output.display().to_string());
        let names = crate::Names { input: &input, output: &output };
        let encoding = plan.encode_decoded_with(&image, Some(&bytes), names, started, own_cores)?;
        drop(image);
        if let Some(folder) = job.output.parent() {
            std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
        }
        crate::output::write_atomic(&job.output, &encoding.bytes, Some(&job.input))?;
        Ok(encoding)
    })();
    budget.release(need);
    result
}
