//! The runner: plays -> hosts (in parallel, bounded by `--forks`) -> tasks in order.
//!
//! Each host of a play runs in its own future with its own state; a failed or unreachable host
//! stops only itself (DESIGN habit 9). One connection per host is opened on first use and kept
//! for the whole run. Handlers are flushed per host at the end of each play section and at
//! `meta: flush_handlers`.

mod async_job;
mod attempt;
pub(crate) mod connect;
mod error;
pub mod facts;
mod facts_select;
mod facts_sftp;
mod handlers;
mod host;
mod include;
mod interrupt;
mod inventory_actions;
mod lockstep;
mod pending;
mod prompt;
mod read_ahead;
mod scope;
mod start_at;
mod task;
mod virt_facts;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;

use crate::config::Config;
use crate::inventory::Inventory;
use crate::playbook::{Play, Playbook, SerialStep};
use crate::report::{Event, HostStats, Reporter};
use crate::template::{Templater, VarLayers};
use crate::transport::Connection;
use crate::vars::Vars;
pub use host::HostState;

/// How a run ended: per-host stats, to decide the exit code.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub stats: BTreeMap<String, HostStats>,
    /// Hosts that ended the run failed: a failure neither ignored, rescued nor cleared by
    /// `meta: clear_host_errors` (the recap still counts a cleared one).
    pub failed_hosts: std::collections::BTreeSet<String>,
    /// The run was interrupted (Ctrl-C, SIGTERM): exit 99 as `ansible-playbook`.
    pub interrupted: bool,
}

impl RunSummary {
    /// `ansible-playbook`'s exit code: 99 if interrupted, 4 if any host was unreachable, 2 if any
    /// host ended failed, else 0.
    pub fn exit_code(&self) -> i32 {
        crate::error::Ending {
            interrupted: self.interrupted,
            unreachable: self.stats.values().any(|s| s.unreachable > 0),
            failed: !self.failed_hosts.is_empty(),
        }
        .exit_code()
    }
}

/// Shared, read-mostly state of one run.
pub struct Runner<'a> {
    pub(crate) pb: &'a Playbook,
    /// The inventory, which `add_host` and `group_by` change during the run.
    pub(crate) inv: std::sync::RwLock<Inventory>,
    pub(crate) opts: &'a Config,
    pub(crate) templater: Templater,
    pub(crate) reporter: Reporter,
    conns: Mutex<HashMap<String, Arc<Connection>>>,
    /// Facts given to hosts by other hosts' tasks, not yet taken (see [`Runner::give`]).
    given: Mutex<HashMap<String, host::Given>>,
    /// Tasks that ran through the Python path (`task 'NAME' (FQCN)`), named after the recap
    /// with `-v`.
    pub(crate) python_tasks: Mutex<std::collections::BTreeSet<String>>,
    /// The `groups` magic variable, rebuilt when `add_host`/`group_by` change the inventory.
    pub(crate) groups: std::sync::RwLock<Arc<Value>>,
    /// Every host's variables as other hosts see them (`hostvars`), refreshed at each play start.
    pub(crate) hostvars: std::sync::RwLock<Arc<crate::template::HostVars>>,
    /// `--start-at-task`: what is passed over.
    pub(crate) start_at: Option<start_at::StartAt>,
    /// `--step`: the answers given.
    pub(crate) step: Option<start_at::Step>,
}

/// Per-play data shared by all its hosts.
pub(crate) struct PlayCtx<'p> {
    pub play: &'p Play,
    /// The plain answers of the play's `vars_prompt` (play variables).
    pub prompted: Vars,
    /// Defaults of every role of the play, merged in order (lowest precedence).
    pub role_defaults: Vars,
    /// Vars of every role of the play, merged in order.
    pub role_vars: Vars,
    /// Every host the play targets after `--limit`, in play order, with those failed in
    /// earlier plays (`ansible_play_hosts_all`).
    pub play_hosts: Vec<String>,
    /// Hosts out of the play: failed or unreachable in an earlier play or in this one
    /// (ansible-core's `play._removed_hosts`). `meta: clear_host_errors` does not put a host
    /// back here: `ansible_play_hosts` keeps leaving it out until the play ends.
    pub removed: Mutex<Vec<String>>,
    /// The hosts of the current `serial` batch, in play order.
    pub batch: Mutex<Vec<String>>,
    /// Keeps hosts in step under `strategy: linear` (reset for each `serial` batch).
    pub lockstep: lockstep::Lockstep,
    /// Whether hosts are held in lock-step (`strategy: linear` and enough forks).
    pub linear: bool,
    /// The batch's hosts still running, in play order: the first one runs `run_once` tasks.
    pub active: Mutex<Vec<String>>,
    /// Signalled when a host leaves the batch or a `run_once` result is ready.
    pub changed: tokio::sync::Notify,
    /// `run_once` results of this batch by task id.
    pub run_once: Mutex<HashMap<usize, Arc<tokio::sync::OnceCell<host::Shared>>>>,
    /// The play's clock: orders host failures and `meta: clear_host_errors` (see [`Self::tick`]).
    pub clock: std::sync::atomic::AtomicU64,
    /// The clock's value at the play's last `meta: clear_host_errors` (0: none yet).
    pub cleared_at: std::sync::atomic::AtomicU64,
    /// `meta: end_play` ([`ENDED_PLAY`]) or `end_batch` ([`ENDED_BATCH`]) ran on some host: every
    /// host of the play (or batch) stops before its next task, as ansible-core ends the play or
    /// batch for all hosts. 0: neither.
    pub ended: std::sync::atomic::AtomicU8,
    /// For `end_play`, `end_batch` and `clear_facts` under `linear`: per task id, the batch
    /// position of the first host whose condition held (see `Runner::meta`).
    pub meta_first: Mutex<HashMap<usize, usize>>,
    /// Hosts of this batch that failed (or became unreachable), for `max_fail_percentage`.
    pub batch_failed: Mutex<std::collections::BTreeSet<String>>,
    /// `throttle:` one semaphore per task id of this batch, with the throttle's permits.
    pub throttles: Mutex<HashMap<usize, Arc<tokio::sync::Semaphore>>>,
    /// Roles brought in by includes that ran (`include_role`, and `import_role` inside included
    /// files), in order, with their dependencies' names; each include (task and loop item)
    /// counts once, as ansible-core loads an include once for the hosts that share it.
    pub included_roles: Mutex<(std::collections::HashSet<String>, crate::playbook::PlayRoles)>,
    /// The play-wide variables every task's scope shares (see [`PlayCtx::play_vars_layer`]),
    /// with what they were built from.
    pub play_layer: Mutex<Option<scope::PlayLayer>>,
}

/// [`PlayCtx::ended`]: `meta: end_batch` ran in this batch.
pub(crate) const ENDED_BATCH: u8 = 1;
/// [`PlayCtx::ended`]: `meta: end_play` ran.
pub(crate) const ENDED_PLAY: u8 = 2;

impl PlayCtx<'_> {
    /// A host failed or became unreachable: out of `ansible_play_hosts` and
    /// `ansible_play_batch` for the rest of the play.
    pub(crate) fn remove(&self, host: &str) {
        if let Ok(mut r) = self.removed.lock()
            && !r.iter().any(|h| h == host)
        {
            r.push(host.to_string());
        }
    }

    /// Records the roles an include loaded (see [`PlayCtx::included_roles`]).
    pub(crate) fn note_included_roles(&self, task: usize, item: &Vars, roles: Vec<(String, Vec<String>)>) {
        if roles.is_empty() {
            return;
        }
        let key = format!("{task}\0{}", serde_json::to_string(item).unwrap_or_default());
        if let Ok(mut g) = self.included_roles.lock()
            && g.0.insert(key)
        {
            g.1.extend(roles);
        }
    }

    /// `ansible_play_role_names` (the play's roles, then those includes added) and
    /// `ansible_dependent_role_names` (their dependencies, each once), as ansible-core's
    /// VariableManager lists them from `play.roles`.
    pub(crate) fn role_names(&self) -> (Vec<String>, Vec<String>) {
        let mut play = Vec::new();
        let mut deps: Vec<String> = Vec::new();
        let mut add = |list: &[(String, Vec<String>)]| {
            for (name, d) in list {
                play.push(name.clone());
                for x in d {
                    if !deps.contains(x) {
                        deps.push(x.clone());
                    }
                }
            }
        };
        add(&self.play.role_names);
        if let Ok(g) = self.included_roles.lock() {
            add(&g.1);
        }
        (play, deps)
    }

    /// The next moment on the play's clock (from 1), for host failures and
    /// `meta: clear_host_errors`: a failure before the last clear no longer fails its host.
    pub(crate) fn tick(&self) -> u64 {
        self.clock.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    }

    /// A host is done with the batch.
    fn leave(&self, host: &str) {
        self.lockstep.leave();
        if let Ok(mut a) = self.active.lock() {
            a.retain(|h| h != host);
        }
        self.changed.notify_waiters();
    }
}

impl<'a> Runner<'a> {
    /// Runs a whole playbook and returns the per-host stats. Connection errors make hosts
    /// unreachable; task errors make them failed; neither stops the other hosts.
    pub async fn run(
        pb: &'a Playbook,
        inv: &'a Inventory,
        opts: &'a Config,
        reporter: Reporter,
    ) -> RunSummary {
        let runner = Runner {
            pb,
            inv: std::sync::RwLock::new(inv.clone()),
            opts,
            templater: Templater::new().allow_broken_conditionals(opts.allow_broken_conditionals),
            reporter,
            conns: Mutex::new(HashMap::new()),
            given: Mutex::new(HashMap::new()),
            python_tasks: Mutex::new(std::collections::BTreeSet::new()),
            groups: std::sync::RwLock::new(Arc::new(Value::Object(inv.groups_map()))),
            hostvars: std::sync::RwLock::new(Arc::new(crate::template::HostVars::new())),
            start_at: opts.start_at_task.as_deref().map(|p| {
                start_at::StartAt::plan(pb, p, &|tags| {
                    crate::playbook::listing::tags_selected(tags, &opts.tags, &opts.skip_tags)
                })
            }),
            step: opts.step.then(start_at::Step::default),
        };
        let start = Instant::now();
        let mut states: BTreeMap<String, HostState> = BTreeMap::new();
        let mut pending = pending::Pending::load(&opts.state_dir, &pb.path);
        let held_files = opts.state_dir.join("secret-files.json");
        opts.secrets.held.load(&held_files);
        interrupt::install();
        for play in &pb.plays {
            if interrupt::is_set() || !runner.run_play(play, &mut states, &mut pending).await {
                break;
            }
        }
        if let (Some(sa), Some(p)) = (&runner.start_at, &opts.start_at_task)
            && !sa.matched
        {
            runner
                .reporter
                .send(Event::Error(start_at::StartAt::no_match_message(p)));
        }
        let interrupted = interrupt::is_set();
        if interrupted {
            runner
                .reporter
                .send(Event::Error("User interrupted execution".into()));
        }
        pending.save();
        opts.secrets.held.save(&held_files);
        runner.close_all().await;
        let failed_hosts = states
            .iter()
            .filter(|(_, s)| s.failed)
            .map(|(h, _)| h.clone())
            .collect();
        let stats: BTreeMap<String, HostStats> = states.into_iter().map(|(h, s)| (h, s.stats)).collect();
        runner.reporter.send(Event::Done {
            stats: stats.clone(),
            elapsed: start.elapsed(),
        });
        let python = std::mem::take(
            &mut *runner
                .python_tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !python.is_empty() {
            let version = crate::modules::python::ansible_version().unwrap_or_default();
            let list: Vec<String> = python.into_iter().collect();
            runner.reporter.send(Event::Note(format!(
                "python path (ansible-core {version}, python on the host): {}",
                list.join(", ")
            )));
        }
        RunSummary {
            stats,
            failed_hosts,
            interrupted,
        }
    }

    /// Runs one play; returns false when no host is left to continue with.
    async fn run_play(
        &self,
        play: &Play,
        states: &mut BTreeMap<String, HostState>,
        pending: &mut pending::Pending,
    ) -> bool {
        let mut hosts = match self.inventory().select(&play.hosts) {
            Ok(h) => h,
            Err(e) => {
                self.reporter
                    .send(Event::Warning(format!("play '{}': {e}", play.name)));
                Vec::new()
            }
        };
        if let Some(limit) = &self.opts.limit {
            match self.inventory().limit(hosts.clone(), limit) {
                Ok(h) => hosts = h,
                Err(e) => {
                    self.reporter.send(Event::Warning(format!("--limit: {e}")));
                    hosts.clear();
                }
            }
        }
        let hosts_all = hosts.clone();
        // `order:` orders the batches and the run, not `ansible_play_hosts_all` (inventory
        // order in ansible-core).
        order_hosts(&mut hosts, play.order);
        hosts.retain(|h| states.get(h).is_none_or(|s| !s.failed && !s.unreachable));
        let removed: Vec<String> = hosts_all.iter().filter(|h| !hosts.contains(h)).cloned().collect();
        let Some(prompted) = self.ask_prompts(play).await else {
            return false;
        };
        self.reporter.send(Event::PlayStart {
            index: play.index,
            name: play.name.clone(),
            hosts: hosts.clone(),
            path: crate::report::place(&play.mark),
        });
        if hosts.is_empty() {
            return true;
        }
        if play.strategy == crate::playbook::Strategy::Free && play.max_fail_percentage.is_some() {
            self.reporter.send(Event::Warning(
                "Using max_fail_percentage with the free strategy is not supported, as tasks are executed independently on each host".into(),
            ));
        }
        let mut role_defaults = Vars::new();
        let mut role_vars = Vars::new();
        for r in &play.roles {
            crate::vars::overlay(&mut role_defaults, &r.defaults);
            crate::vars::overlay(&mut role_vars, &r.vars);
        }
        self.refresh_hostvars(states);
        let ctx = PlayCtx {
            play,
            prompted,
            role_defaults,
            role_vars,
            play_hosts: hosts_all,
            removed: Mutex::new(removed),
            batch: Mutex::new(Vec::new()),
            play_layer: Mutex::new(None),
            lockstep: lockstep::Lockstep::default(),
            linear: false,
            active: Mutex::new(Vec::new()),
            changed: tokio::sync::Notify::new(),
            run_once: Mutex::new(HashMap::new()),
            clock: std::sync::atomic::AtomicU64::new(0),
            cleared_at: std::sync::atomic::AtomicU64::new(0),
            ended: std::sync::atomic::AtomicU8::new(0),
            meta_first: Mutex::new(HashMap::new()),
            batch_failed: Mutex::new(std::collections::BTreeSet::new()),
            throttles: Mutex::new(HashMap::new()),
            included_roles: Mutex::new(Default::default()),
        };
        let all_batches = batches(&hosts, &play.serial);
        let forks = self.opts.forks.max(1);
        // Lock-step needs every host of a batch running at once; with fewer forks than hosts,
        // hosts run through the play one fork-slot at a time (as `free`).
        let ctx = PlayCtx {
            linear: play.strategy == crate::playbook::Strategy::Linear
                && all_batches.iter().all(|b| b.len() <= forks),
            ..ctx
        };
        for (n, batch) in all_batches.into_iter().enumerate() {
            if interrupt::is_set() {
                break;
            }
            // Each `serial` batch after the first starts anew, as ansible-core's callbacks see
            // it (a PLAY banner, a new play in the JSON document).
            if n > 0 && ctx.ended.load(std::sync::atomic::Ordering::SeqCst) != ENDED_PLAY {
                self.reporter.send(Event::PlayStart {
                    index: play.index,
                    name: play.name.clone(),
                    hosts: batch.clone(),
                    path: crate::report::place(&play.mark),
                });
            }
            // end_play ends the batches still to come; end_batch only its own.
            match ctx.ended.load(std::sync::atomic::Ordering::SeqCst) {
                ENDED_PLAY => break,
                _ => ctx.ended.store(0, std::sync::atomic::Ordering::SeqCst),
            }
            ctx.lockstep.reset(batch.len());
            if let Ok(mut a) = ctx.active.lock() {
                *a = batch.clone();
            }
            if let Ok(mut b) = ctx.batch.lock() {
                *b = batch.clone();
            }
            if let Ok(mut r) = ctx.run_once.lock() {
                r.clear();
            }
            if let Ok(mut m) = ctx.meta_first.lock() {
                m.clear();
            }
            if let Ok(mut m) = ctx.throttles.lock() {
                m.clear();
            }
            if let Ok(mut m) = ctx.batch_failed.lock() {
                m.clear();
            }

            let mut work = Vec::new();
            for h in &batch {
                let mut st = states
                    .remove(h)
                    .unwrap_or_else(|| HostState::new(h, self.inventory().host_vars(h)));
                self.take_given(&mut st);
                st.restored_handlers = pending.take(play.index, h);
                work.push(st);
            }
            let ctx = &ctx;
            let done: Vec<HostState> = futures::stream::iter(work.into_iter().map(|st| async move {
                let st = self.play_host(ctx, st).await;
                ctx.leave(&st.name);
                st
            }))
            .buffer_unordered(forks)
            .collect()
            .await;
            let mut all_failed = true;
            // `meta: clear_host_errors` clears the batch's hosts that failed before it (as
            // ansible-core's strategy: the inventory is restricted to the batch); earlier
            // batches' failures stand.
            let cleared_at = ctx.cleared_at.load(std::sync::atomic::Ordering::SeqCst);
            for mut st in done {
                if st.failed_at < cleared_at {
                    st.failed = false;
                    st.unreachable = false;
                }
                if !st.failed && !st.unreachable {
                    all_failed = false;
                }
                // Restored notifications that never got to run (the host stopped early) stay saved.
                let mut keep = std::mem::take(&mut st.restored_handlers);
                keep.extend(st.pending_handlers.iter().cloned());
                pending.put(play.index, &st.name, &keep);
                states.insert(st.name.clone(), st);
            }
            if all_failed {
                return false;
            }
        }
        true
    }

    /// The inventory as it stands (read lock; `add_host`/`group_by` write it).
    pub(crate) fn inventory(&self) -> std::sync::RwLockReadGuard<'_, Inventory> {
        self.inv.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the inventory (`add_host`, `group_by`) and rebuilds the `groups` variable;
    /// returns what `change` returned.
    pub(crate) fn change_inventory<T>(&self, change: impl FnOnce(&mut Inventory) -> T) -> T {
        let mut inv = self
            .inv
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = change(&mut inv);
        let groups = Arc::new(Value::Object(inv.groups_map()));
        drop(inv);
        *self
            .groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = groups;
        out
    }

    /// Rebuilds `hostvars` from the inventory and what earlier plays learned (facts, set_fact).
    fn refresh_hostvars(&self, states: &BTreeMap<String, HostState>) {
        let mut hv = crate::template::HostVars::new();
        let inv = self.inventory();
        for h in inv.select("all").unwrap_or_default() {
            let mut v = match states.get(&h) {
                Some(st) => visible_vars(st),
                None => {
                    let mut v = inv.host_vars(&h);
                    v.insert("inventory_hostname".into(), Value::String(h.clone()));
                    v.into()
                }
            };
            if let Ok(given) = self.given.lock()
                && let Some(g) = given.get(&h)
            {
                let mut flat = v.flatten();
                g.apply_vars(&mut flat);
                v = flat.into();
            }
            hv.insert(h, v);
        }
        if let Ok(mut slot) = self.hostvars.write() {
            *slot = Arc::new(hv);
        }
    }

    /// Publishes one host's current variables to `hostvars`, so that other hosts see its facts,
    /// `set_fact` and `register` results during the same play (as in Ansible).
    pub(crate) fn publish_hostvars(&self, st: &HostState) {
        let v = visible_vars(st);
        if let Ok(mut slot) = self.hostvars.write() {
            let mut map = (**slot).clone();
            map.insert(st.name.clone(), v);
            *slot = Arc::new(map);
        }
    }

    /// Gives `host` facts set by another host's task (`delegate_facts`, `run_once`): `hostvars`
    /// shows them at once; the host's own state takes them before its next task
    /// ([`Runner::take_given`]), as ansible-core sets them on the target host.
    pub(crate) fn give(&self, host: &str, given: host::Given) {
        if given.is_empty() {
            return;
        }
        if let Ok(mut slot) = self.hostvars.write() {
            let mut map = (**slot).clone();
            let mut v = map.get(host).map(VarLayers::flatten).unwrap_or_else(|| {
                let mut v = self.inventory().host_vars(host);
                v.insert("inventory_hostname".into(), Value::String(host.to_string()));
                v
            });
            given.apply_vars(&mut v);
            map.insert(host.to_string(), v.into());
            *slot = Arc::new(map);
        }
        if let Ok(mut g) = self.given.lock() {
            g.entry(host.to_string()).or_default().merge(given);
        }
    }

    /// Takes what other hosts' tasks gave this host (see [`Runner::give`]).
    pub(crate) fn take_given(&self, st: &mut HostState) {
        let given = self.given.lock().ok().and_then(|mut g| g.remove(&st.name));
        if let Some(g) = given {
            g.apply(st);
            self.publish_hostvars(st);
        }
    }

    /// The host's connection: made once for the run and opened by its first command (see
    /// [`Runner::connection_to`]).
    ///
    /// Errors: [`crate::transport::TransportError`] when the host's connection variables are
    /// invalid (a port that is not a number, an unsupported `ansible_connection`).
    pub(crate) fn connection(
        &self,
        st: &HostState,
        play: &crate::playbook::Play,
    ) -> Result<Arc<Connection>, crate::transport::TransportError> {
        let spec = connect::spec_for(self, st, Some(play))?;
        Ok(self.connection_to(&spec))
    }

    /// The connection for `spec`, made on first use and shared by every task that connects the
    /// same way (a host's own tasks, tasks delegated to it, `connection:` per task). It is not
    /// opened here: its first command opens it ([`Connection::lazy`]), in the flow of the task
    /// that needs it, as ansible-core connects on the first task that needs a connection; a
    /// connection that could not be opened is tried again by the next command.
    pub(crate) fn connection_to(&self, spec: &crate::transport::ConnectSpec) -> Arc<Connection> {
        // One connection per host and way in: plays that connect as another user (or locally)
        // get their own.
        let key = format!(
            "{}\0{:?}\0{}\0{}\0{}",
            spec.name,
            spec.kind,
            spec.address,
            spec.port,
            spec.user.as_deref().unwrap_or_default()
        );
        match self.conns.lock() {
            Ok(mut map) => map
                .entry(key)
                .or_insert_with(|| Arc::new(Connection::lazy(spec)))
                .clone(),
            Err(_) => Arc::new(Connection::lazy(spec)),
        }
    }

    async fn close_all(&self) {
        let conns: Vec<Arc<Connection>> = match self.conns.lock() {
            Ok(mut m) => m.drain().map(|(_, c)| c).collect(),
            Err(_) => Vec::new(),
        };
        for c in conns {
            c.close().await;
        }
    }
}

/// What other hosts see of a host through `hostvars`: inventory vars, facts, set_fact/register.
fn visible_vars(st: &HostState) -> VarLayers {
    let mut own = st.include_vars.clone();
    crate::vars::overlay(&mut own, &st.host_facts);
    own.insert("inventory_hostname".into(), Value::String(st.name.clone()));
    // The facts layer is the one the host's own scopes share; without facts, `ansible_facts`
    // is left undefined here.
    let facts = if st.facts().is_empty() {
        Arc::new(Vars::new())
    } else {
        st.fact_vars()
    };
    VarLayers::new([Arc::new(st.inv_vars.clone()), facts, Arc::new(own)])
}

/// Orders a play's hosts by its `order:`, as ansible-core's `InventoryManager.get_hosts`:
/// `sorted`/`reverse_sorted` by name, `reverse_inventory` reversed, `shuffle` at random.
fn order_hosts(hosts: &mut [String], order: crate::playbook::HostOrder) {
    use crate::playbook::HostOrder;
    match order {
        HostOrder::Inventory => {}
        HostOrder::ReverseInventory => hosts.reverse(),
        HostOrder::Sorted => hosts.sort(),
        HostOrder::ReverseSorted => hosts.sort_by(|a, b| b.cmp(a)),
        HostOrder::Shuffle => {
            // Fisher-Yates with the operating system's randomness.
            for i in (1..hosts.len()).rev() {
                let mut b = [0u8; 8];
                let r = getrandom::fill(&mut b)
                    .map(|()| u64::from_le_bytes(b))
                    .unwrap_or(i as u64);
                hosts.swap(i, (r % (i as u64 + 1)) as usize);
            }
        }
    }
}

/// Splits hosts into `serial:` batches (the last size repeats, like Ansible).
fn batches(hosts: &[String], serial: &[SerialStep]) -> Vec<Vec<String>> {
    if serial.is_empty() {
        return vec![hosts.to_vec()];
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut step = 0;
    while i < hosts.len() {
        let s = &serial[step.min(serial.len() - 1)];
        let n = match s {
            SerialStep::Count(n) => *n,
            SerialStep::Percent(p) => ((hosts.len() as f64) * p / 100.0).floor().max(1.0) as usize,
        }
        .max(1);
        let end = (i + n).min(hosts.len());
        out.push(hosts[i..end].to_vec());
        i = end;
        step += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_order_as_ansible_cores_get_hosts() {
        use crate::playbook::HostOrder;
        let hosts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut h = hosts(&["b", "c", "a"]);
        order_hosts(&mut h, HostOrder::Sorted);
        assert_eq!(h, hosts(&["a", "b", "c"]));
        order_hosts(&mut h, HostOrder::ReverseSorted);
        assert_eq!(h, hosts(&["c", "b", "a"]));
        let mut h = hosts(&["b", "c", "a"]);
        order_hosts(&mut h, HostOrder::ReverseInventory);
        assert_eq!(h, hosts(&["a", "c", "b"]));
        order_hosts(&mut h, HostOrder::Shuffle);
        h.sort();
        assert_eq!(h, hosts(&["a", "b", "c"]));
    }

    #[test]
    fn serial_batches_repeat_the_last_size() {
        let hosts: Vec<String> = (1..=7).map(|i| format!("h{i}")).collect();
        let b = batches(&hosts, &[SerialStep::Count(1), SerialStep::Count(2)]);
        let sizes: Vec<usize> = b.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1, 2, 2, 2]);
        let b = batches(&hosts, &[SerialStep::Percent(50.0)]);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
    }
}
