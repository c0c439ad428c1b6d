//! `berth login` and `berth logout`: credentials checked against the registry and kept in
//! Docker's client config (`$DOCKER_CONFIG/config.json`), so `docker` and berth share them.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{Context, bail};
use berth_engine::registry::{Client, DockerConfig, Registry};
use clap::Args;

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Username
    #[arg(short, long)]
    username: Option<String>,
    /// Password (prefer --password-stdin)
    #[arg(short, long)]
    password: Option<String>,
    /// Take the password from stdin
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    /// The registry (Docker Hub when not given)
    server: Option<String>,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// The registry (Docker Hub when not given)
    server: Option<String>,
}

/// `https://host/v1/` or `host` → the registry's domain (`docker.io` for Docker Hub).
fn registry_of(server: Option<&str>) -> String {
    let Some(server) = server else {
        return "docker.io".to_string();
    };
    let rest = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))
        .unwrap_or(server);
    let host = rest.split('/').next().unwrap_or(rest);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        h => h.to_string(),
    }
}

pub fn login(args: &LoginArgs) -> anyhow::Result<()> {
    if args.password.is_some() && args.password_stdin {
        bail!("--password and --password-stdin are mutually exclusive");
    }
    if args.password_stdin && args.username.is_none() {
        bail!("Must provide --username with --password-stdin");
    }
    let registry_name = registry_of(args.server.as_deref());
    let stdin = std::io::stdin();
    let username = match &args.username {
        Some(u) => u.clone(),
        None => {
            if !stdin.is_terminal() {
                bail!(
                    "Cannot perform an interactive login from a non TTY device: use --username and --password-stdin"
                );
            }
            prompt("Username: ")?
        }
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        stdin
            .lock()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if let Some(p) = &args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        p.clone()
    } else {
        if !stdin.is_terminal() {
            bail!(
                "Cannot perform an interactive login from a non TTY device: use --password-stdin"
            );
        }
        prompt_hidden("Password: ")?
    };
    if username.is_empty() || password.is_empty() {
        bail!("a username and a password are needed to log in to {registry_name}");
    }
    let registry = Registry::from_environment()?;
    let client = Client::new(
        &registry.settings,
        &registry_name,
        Some(berth_engine::registry::Credential::Basic {
            username: username.clone(),
            password: password.clone(),
        }),
    )?;
    client.check_login()?;
    for w in client.warnings() {
        eprintln!("WARNING: {w}");
    }
    registry
        .credentials
        .store(&registry_name, &username, &password)?;
    eprintln!(
        "WARNING! Your password will be stored unencrypted in {}.",
        registry.credentials.path().display()
    );
    println!("Login Succeeded");
    Ok(())
}

pub fn logout(args: &LogoutArgs) -> anyhow::Result<()> {
    let registry_name = registry_of(args.server.as_deref());
    let config = DockerConfig::locate();
    let key = berth_engine::registry::credentials::config_key(&registry_name);
    if config.erase(&registry_name)? {
        println!("Removing login credentials for {key}");
    } else {
        println!("Not logged in to {key}");
    }
    Ok(())
}

fn prompt(text: &str) -> anyhow::Result<String> {
    eprint!("{text}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// A line read with the terminal's echo off.
fn prompt_hidden(text: &str) -> anyhow::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).context("cannot read the terminal's settings")?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).context("cannot turn the echo off")?;
    let line = prompt(text);
    let _ = tcsetattr(&stdin, OptionalActions::Now, &saved);
    eprintln!();
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_name_registries() {
        assert_eq!(registry_of(None), "docker.io");
        assert_eq!(
            registry_of(Some("https://index.docker.io/v1/")),
            "docker.io"
        );
        assert_eq!(registry_of(Some("127.0.0.1:5000")), "127.0.0.1:5000");
        assert_eq!(
            registry_of(Some("http://reg.example:80/x")),
            "reg.example:80"
        );
    }
}
