//! `berth compose run`: a one-off command on a service, with Compose v2's flags; the
//! container is started and attached as `berth run` does it, and its exit code is ours.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::anyhow;
use berth_compose::model::types::shell_split;
use berth_compose::orchestrator::RunOptions;
use clap::Args;

use super::{ComposeArgs, Stages, progress};
use crate::cli::container::{attach, run as container_run};
use crate::cli::output;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    /// Override the entrypoint of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    interactive: bool,
    /// Allocate a pseudo-TTY (Compose's hidden flag; the default follows the terminal)
    #[arg(short = 't', long, hide = true)]
    tty: bool,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    cap_drop: Vec<String>,
    /// Add or override a label
    #[arg(short, long = "label")]
    label: Vec<String>,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// Don't start linked services
    #[arg(long = "no-deps")]
    no_deps: bool,
    /// Publish a container's port(s) to the host
    #[arg(short, long)]
    publish: Vec<String>,
    /// Pull without printing progress information
    #[arg(long = "quiet-pull")]
    quiet_pull: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(short = 'P', long = "service-ports")]
    service_ports: bool,
    /// Use the service's network useAliases in the network(s) the container connects to
    #[arg(long = "use-aliases")]
    use_aliases: bool,
    /// Run as specified username or uid
    #[arg(short, long)]
    user: Option<String>,
    /// Bind mount a volume
    #[arg(short, long = "volume")]
    volume: Vec<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Build image before starting container
    #[arg(long)]
    build: bool,
    /// The service, then the command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    service_and_command: Vec<String>,
}

pub fn run(root: &Path, args: &ComposeArgs, a: &RunArgs) -> anyhow::Result<()> {
    if a.build {
        anyhow::bail!("--build: berth cannot build images yet");
    }
    let (service, command) = a
        .service_and_command
        .split_first()
        .ok_or_else(|| anyhow!("requires at least 1 arg(s), only received 0"))?;
    let entrypoint = a
        .entrypoint
        .as_deref()
        .map(shell_split)
        .transpose()
        .map_err(|e| anyhow!("--entrypoint: {e}"))?;
    if a.tty && a.no_tty {
        anyhow::bail!("--tty and --no-TTY can't be used together");
    }
    // Compose allocates a terminal when it has one, unless -T.
    let tty =
        a.tty || (!a.no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal());
    let interactive = a.interactive && !a.detach;
    let detach_keys = attach::prepare(tty, interactive, None, 1)?;
    let opts = RunOptions {
        service: service.clone(),
        command: command.to_vec(),
        entrypoint,
        env: a.env.clone(),
        labels: a.label.clone(),
        name: a.name.clone(),
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        no_deps: a.no_deps,
        service_ports: a.service_ports,
        publish: a.publish.clone(),
        volumes: a.volume.clone(),
        tty,
        interactive,
        rm: a.rm,
        detach: a.detach,
        use_aliases: a.use_aliases,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        remove_orphans: a.remove_orphans,
    };
    let loaded = super::load_project(args, Stages::default(), std::slice::from_ref(service))?;
    let o = super::orchestrator(root, args, &loaded)?;
    let (id, warnings) = o
        .run_oneoff(&opts, progress::reporter(a.quiet_pull))
        .map_err(|e| anyhow!(e))?;
    for w in warnings {
        output::warning(&w);
    }
    if args.dry_run {
        return Ok(());
    }
    container_run::start_attached(
        root,
        &id,
        &container_run::Session {
            detach: a.detach,
            interactive,
            tty,
            rm: a.rm,
            detach_keys,
        },
    )
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::RunArgs;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> RunArgs {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parses").run
    }

    #[test]
    fn short_flags_combine_as_in_compose() {
        let a = parse(&["-i", "web", "sh"]);
        assert!(a.interactive);
        assert_eq!(a.service_and_command, ["web", "sh"]);
        let a = parse(&["-it", "--rm", "web"]);
        assert!(a.interactive && a.tty && a.rm);
        let a = parse(&["-iT", "-P", "web"]);
        assert!(a.no_tty && a.service_ports);
        let a = parse(&["--interactive=false", "web", "-x"]);
        assert!(!a.interactive);
        assert_eq!(a.service_and_command, ["web", "-x"]);
    }
}
