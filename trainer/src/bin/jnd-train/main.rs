//! `jnd-train`: jndenc's data, label, training and evaluation tool, one module per family of commands
//! (each command's arguments are a clap `Args` struct beside the code that runs it). Training never
//! runs in CI.

mod auto_eval;
mod common;
mod decision_eval;
mod devices;
mod dmvjnd;
mod gpu_check;
mod judge;
mod labels;
mod machine_coding;
mod prior;
mod targets;
mod vpjnd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jndenc's data, label, training and evaluation tool. Training never runs in CI.
#[derive(Debug, Parser)]
#[command(name = "jnd-train")]
struct Cli {
    /// Where the models train and run: cpu (the default), cuda (a build with `--features cuda`) or
    /// wgpu (`--features wgpu`). Without it, the JNDENC_DEVICE environment variable, then cpu. The
    /// teacher (butteraugli) and the codecs always run on the CPU.
    #[arg(long, global = true, value_name = "DEVICE", value_parser = parse_device)]
    device: Option<jnd_model::Accelerator>,
    #[command(subcommand)]
    command: Command,
}

fn parse_device(name: &str) -> Result<jnd_model::Accelerator, String> {
    name.parse().map_err(|e: jnd_model::Error| e.to_string())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the burn backends compiled into this build.
    Devices,
    /// Compute JND ladders (encode at every quality, decode, measure) for a folder of PNG photos.
    Ladders(labels::LaddersArgs),
    /// Fit the human-first-jnd teacher to MCL-JCI's human distribution by quantile matching.
    FitTeacher(labels::FitTeacherArgs),
    /// Summaries per codec and operating point: median JND quality and the teacher's bit-rate saving.
    Summary(labels::SummaryArgs),
    /// Codecs compared at equal SSIMULACRA 2 and 3-norm, and at the teacher's choices, from ladders.
    CompareCodecs(labels::CompareCodecsArgs),
    /// Train VP-JNDnet on the training photos (validation reported each epoch; the final weights are kept).
    Vpjnd(vpjnd::VpjndArgs),
    /// Train the four CIFAR-10 CAM classifiers (AlexNet-, VGG-, ResNet-, DenseNet-style) of DMV-JND.
    Classifiers(dmvjnd::ClassifiersArgs),
    /// Train DMV-JND-NET against the frozen classifiers with the paper's loss.
    Dmvjnd(dmvjnd::DmvjndArgs),
    /// Reproduce the DMV-JND paper's experiments (RCA, PSNR, WGN control, homogeneous property).
    EvalDmvjnd(dmvjnd::EvalDmvjndArgs),
    /// Derive the machine quantisation tables from the classifiers' sensitivity per DCT frequency.
    MachineTables(machine_coding::MachineTablesArgs),
    /// Rate against RCA on CIFAR-10 test images: standard and machine tables, each with and without
    /// DMV-JND per-block quantisation.
    EvalMachineCoding(machine_coding::EvalMachineCodingArgs),
    /// Evaluate VP-JNDnet on the validation photos: pair metrics and the block search against the teacher.
    EvalVpjnd(vpjnd::EvalVpjndArgs),
    /// Write the training manifest: (image, split, codec, quality, label, distance) per rung.
    Labels(labels::LabelsArgs),
    /// The quality decision against the teacher's per codec and target distance (MAD, lossless, gain).
    EvalDecision(decision_eval::EvalDecisionArgs),
    /// Fit the quality prior of one codec: features of the original -> the teacher's distance per quality.
    FitPrior(prior::FitPriorArgs),
    /// The presets' SSIMULACRA 2 floors and when auto mode searches 4:4:4 too, from jpegli ladders.
    FitTargets(targets::FitTargetsArgs),
    /// Auto mode end to end (each codec, decider and target) against one fixed jpegli quality.
    EvalAuto(auto_eval::EvalAutoArgs),
    /// Train the whole-picture judge (both metrics predicted from block features) and report its
    /// decisions per preset against the exact ones.
    Judge(judge::JudgeArgs),
    /// The models on every backend usable here: differences from the CPU and throughput (a table).
    GpuCheck(gpu_check::GpuCheckArgs),
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jnd-train: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let device = match cli.device {
        Some(device) => device,
        None => jnd_model::Accelerator::from_env()?.unwrap_or_default(),
    };
    match cli.command {
        Command::Devices => devices::run(),
        Command::GpuCheck(args) => gpu_check::run_gpu_check(args),
        Command::Ladders(args) => labels::run_ladders(args),
        Command::FitTeacher(args) => labels::run_fit_teacher(args),
        Command::Summary(args) => labels::run_summary(args),
        Command::CompareCodecs(args) => labels::run_compare_codecs(args),
        Command::Vpjnd(args) => vpjnd::run_vpjnd(args, device),
        Command::Classifiers(args) => dmvjnd::run_classifiers(args, device),
        Command::Dmvjnd(args) => dmvjnd::run_dmvjnd(args, device),
        Command::EvalDmvjnd(args) => dmvjnd::run_eval_dmvjnd(args, device),
        Command::MachineTables(args) => machine_coding::run_machine_tables(args, device),
        Command::EvalMachineCoding(args) => machine_coding::run_eval_machine_coding(args, device),
        Command::EvalVpjnd(args) => vpjnd::run_eval_vpjnd(args, device),
        Command::Labels(args) => labels::run_labels(args),
        Command::EvalAuto(args) => auto_eval::run_eval_auto(args, device),
        Command::EvalDecision(args) => decision_eval::run_eval_decision(args, device),
        Command::FitPrior(args) => prior::run_fit_prior(args),
        Command::FitTargets(args) => targets::run_fit_targets(args),
        Command::Judge(args) => judge::run_judge(args, device),
    }
}
