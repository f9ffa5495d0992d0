//! The secret policy's run-time half: a module's rendered arguments and environment are checked
//! against the values and markers of this run's secrets before the module runs. The rules and
//! messages are the load-time half's, [`crate::playbook::taint`].

use std::collections::BTreeSet;

use super::{SecretError, SecretStore};
use crate::error::LoadError;
use crate::error::PolicyError;
use crate::modules::ModuleInfo;
use crate::playbook::Playbook;
use crate::playbook::taint::{self, FIX_ARGV, collect_strings, may_carry, refusal};
use crate::vars::Vars;

impl SecretStore {
    /// Run-time check of a module's rendered arguments and environment: refuses a secret (marker
    /// or value) in any argument that is not a delivery channel for `module` (see
    /// [`may_carry`]), and in any `environment:` value (it would become `env K=V` in argv).
    /// `place` names the task for the message.
    pub fn refuse_args(
        &self,
        module: &ModuleInfo,
        args: &Vars,
        env: &[(String, String)],
        place: &str,
    ) -> Result<(), SecretError> {
        if !self.masks_anything() {
            return Ok(());
        }
        for (k, v) in env {
            if let Some(name) = self.find_in(v) {
                return Err(SecretError::Policy(PolicyError::OnCommandLine {
                    name: format!("'{name}'"),
                    place: format!("{place} (environment {k})"),
                    fix: FIX_ARGV,
                }));
            }
        }
        for (k, v) in args {
            if may_carry(module, k) {
                continue;
            }
            let mut texts = Vec::new();
            collect_strings(v, &mut texts);
            for t in texts {
                if let Some(name) = self.find_in(t) {
                    return Err(refusal(module.name, k, format!("'{name}'"), place.to_string()).into());
                }
            }
        }
        Ok(())
    }

    /// The load-time check of a playbook against this store's secrets
    /// ([`crate::playbook::taint::check`]); variables (inventory, `more_vars`, play and role
    /// vars) whose value holds a decrypted vault value count as secrets too.
    ///
    /// Errors: [`LoadError::At`] naming the secret, the task, its `file:line:col` and the fix.
    pub fn check_playbook(&self, pb: &Playbook, more_vars: &[Vars]) -> Result<(), LoadError> {
        let mut names: BTreeSet<String> = self.names().map(str::to_string).collect();
        let play_vars = pb.plays.iter().flat_map(|p| {
            std::iter::once(&p.vars).chain(p.roles.iter().flat_map(|r| [&r.defaults, &r.vars, &r.params]))
        });
        for vars in more_vars.iter().chain(play_vars) {
            names.extend(
                vars.iter()
                    .filter(|(_, v)| crate::vault::holds_decrypted(v))
                    .map(|(k, _)| k.clone()),
            );
        }
        taint::check(pb, &names, more_vars)
    }
}
