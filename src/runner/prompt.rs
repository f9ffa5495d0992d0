//! A play's `vars_prompt`, asked when the play starts (before its `PLAY` banner, after every
//! line of the plays before it), as ansible-core's PlaybookExecutor asks it; the entries were
//! rendered and the private names reserved as secrets before the run
//! ([`crate::playbook::vars_prompt`]).

use secrecy::SecretString;

use super::Runner;
use crate::playbook::Play;
use crate::playbook::vars_prompt::{self, Terminal};
use crate::report::Event;
use crate::vars::Vars;

impl Runner<'_> {
    /// Asks `play`'s prompts on the controller's terminal: returns the plain answers (play
    /// variables); private answers fill their reserved secrets (masked from now on). `None`
    /// when asking failed (the error was reported; the run ends, as ansible-playbook's does).
    pub(super) async fn ask_prompts(&self, play: &Play) -> Option<Vars> {
        if play.vars_prompt.is_empty() {
            return Some(Vars::new());
        }
        // The previous play's output is on the screen before the question.
        self.reporter.flush().await;
        let (plain, secrets, warnings) = match vars_prompt::answer_play(&play.vars_prompt, &mut Terminal) {
            Ok(a) => a,
            Err(e) => {
                self.reporter
                    .send(Event::Error(format!("play '{}': {e}", play.name)));
                return None;
            }
        };
        // On stderr also under --json, as before the run (ansible-core's display warns there
        // whatever the callback).
        for w in warnings {
            eprintln!("[WARNING]: {w}");
        }
        for (name, value) in secrets {
            // secrets: the private answer is a secret of the run from here on.
            if let Err(e) = self.opts.secrets.fill(&name, SecretString::from(value)) {
                self.reporter.send(Event::Error(format!("vars_prompt: {e}")));
                return None;
            }
        }
        Some(plain)
    }
}
