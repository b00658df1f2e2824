//! Run budgets: limits on what one agent run, or one workflow run, may spend: input and output
//! tokens, cost (priced per model by a [`PriceTable`]), wall time and tool calls.
//!
//! A [`RunBudget`] is a shared account (cheap to clone; clones draw from the same account).
//! An agent checks every budget it runs under before each model call and before each tool
//! batch; going over ends the run with [`crate::AgentError::BudgetExceeded`], which names the
//! limit and carries what the run did so far. Limits are checked, not predicted: a model call
//! that starts under a token or cost limit may end over it, and the run stops before the next.
//!
//! ```
//! use std::time::Duration;
//! use weft_core::budget::{BudgetLimits, ModelPrice, PriceTable, RunBudget};
//!
//! let prices = PriceTable::new().with("gpt-4.1", ModelPrice::new(2.0, 8.0).with_cached_input(0.5));
//! let limits = BudgetLimits::new()
//!     .max_output_tokens(4_000)
//!     .max_cost(0.25, prices)
//!     .max_wall_time(Duration::from_secs(60))
//!     .max_tool_calls(20);
//! let shared = RunBudget::new(limits); // give it to several runs (ChatOptions::budget)
//! assert_eq!(shared.spent().tool_calls, 0);
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::message::Usage;

/// What a model costs, per million tokens, in the currency of the budget's cost limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// Price of a million input tokens not read from the prompt cache.
    pub input_per_million: f64,
    /// Price of a million generated tokens.
    pub output_per_million: f64,
    /// Price of a million input tokens read from the prompt cache.
    pub cached_input_per_million: f64,
}

impl ModelPrice {
    /// A price for input and output tokens; cached input costs as much as input until
    /// [`ModelPrice::with_cached_input`] says otherwise.
    pub fn new(input_per_million: f64, output_per_million: f64) -> Self {
        Self { input_per_million, output_per_million, cached_input_per_million: input_per_million }
    }

    /// Sets the price of cached input tokens.
    pub fn with_cached_input(mut self, cached_input_per_million: f64) -> Self {
        self.cached_input_per_million = cached_input_per_million;
        self
    }

    /// What `usage` costs at this price.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cache_read_input_tokens.min(usage.input_tokens);
        let uncached = usage.input_tokens - cached;
        (uncached as f64 * self.input_per_million
            + cached as f64 * self.cached_input_per_million
            + usage.output_tokens as f64 * self.output_per_million)
            / 1_000_000.0
    }
}

/// Prices by model name. A model without an entry of its own takes the price of the longest
/// entry its name starts with, so `gpt-4.1` also prices `gpt-4.1-2025-04-14`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    prices: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The table with `model` priced at `price`.
    pub fn with(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        self.insert(model, price);
        self
    }

    /// Prices `model` at `price`, replacing its earlier price.
    pub fn insert(&mut self, model: impl Into<String>, price: ModelPrice) {
        self.prices.insert(model.into(), price);
    }

    /// The price of `model`: its own, or the longest entry its name starts with.
    pub fn price_for(&self, model: &str) -> Option<&ModelPrice> {
        self.prices.get(model).or_else(|| {
            self.prices
                .iter()
                .filter(|(name, _)| !name.is_empty() && model.starts_with(name.as_str()))
                .max_by_key(|(name, _)| name.len())
                .map(|(_, price)| price)
        })
    }
}

/// The limits of a budget; each is off until set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetLimits {
    /// The most input tokens, summed over the model calls.
    pub input_tokens: Option<u64>,
    /// The most output tokens, summed over the model calls.
    pub output_tokens: Option<u64>,
    /// The most the model calls may cost, priced by [`BudgetLimits::prices`].
    pub cost: Option<f64>,
    /// The longest time from the budget's start (the run's start, or [`RunBudget::new`]).
    pub wall_time: Option<Duration>,
    /// The most tool calls.
    pub tool_calls: Option<u64>,
    /// What each model costs (needed when `cost` is set; priced without a cost limit too).
    pub prices: PriceTable,
}

impl BudgetLimits {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Limits input tokens.
    pub fn max_input_tokens(mut self, tokens: u64) -> Self {
        self.input_tokens = Some(tokens);
        self
    }

    /// Limits output tokens.
    pub fn max_output_tokens(mut self, tokens: u64) -> Self {
        self.output_tokens = Some(tokens);
        self
    }

    /// Limits the cost, with the prices of the models used.
    pub fn max_cost(mut self, cost: f64, prices: PriceTable) -> Self {
        self.cost = Some(cost);
        self.prices = prices;
        self
    }

    /// Limits the wall time.
    pub fn max_wall_time(mut self, wall_time: Duration) -> Self {
        self.wall_time = Some(wall_time);
        self
    }

    /// Limits tool calls.
    pub fn max_tool_calls(mut self, calls: u64) -> Self {
        self.tool_calls = Some(calls);
        self
    }

    /// Sets the price table (cost is then counted, even without a cost limit).
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }
}

/// Which limit a run went over: the limit and the amount used when it was checked.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetOverrun {
    /// Input tokens.
    #[error("input tokens: {used} used of {limit}")]
    InputTokens {
        /// The limit.
        limit: u64,
        /// Used so far.
        used: u64,
    },
    /// Output tokens.
    #[error("output tokens: {used} used of {limit}")]
    OutputTokens {
        /// The limit.
        limit: u64,
        /// Used so far.
        used: u64,
    },
    /// Cost.
    #[error("cost: {used:.6} spent of {limit:.6}")]
    Cost {
        /// The limit.
        limit: f64,
        /// Spent so far.
        used: f64,
    },
    /// Wall time.
    #[error("wall time: {used:?} elapsed of {limit:?}")]
    WallTime {
        /// The limit.
        limit: Duration,
        /// Elapsed since the budget started.
        used: Duration,
    },
    /// Tool calls.
    #[error("tool calls: the next batch would make {used} of {limit}")]
    ToolCalls {
        /// The limit.
        limit: u64,
        /// The calls made so far plus the batch that was refused.
        used: u64,
    },
}

impl BudgetOverrun {
    /// The limit's name, low-cardinality (for telemetry): `input_tokens`, `output_tokens`,
    /// `cost`, `wall_time`, `tool_calls`.
    pub fn limit_name(&self) -> &'static str {
        match self {
            BudgetOverrun::InputTokens { .. } => "input_tokens",
            BudgetOverrun::OutputTokens { .. } => "output_tokens",
            BudgetOverrun::Cost { .. } => "cost",
            BudgetOverrun::WallTime { .. } => "wall_time",
            BudgetOverrun::ToolCalls { .. } => "tool_calls",
        }
    }
}

/// What a budget has spent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetSpent {
    /// Tokens, summed over the model calls.
    pub usage: Usage,
    /// Their cost (0 for models the price table does not know).
    pub cost: f64,
    /// Tool calls made.
    pub tool_calls: u64,
    /// Time since the budget started.
    pub elapsed: Duration,
}

/// A budget account: limits and what was spent against them, shared by its clones (one
/// workflow run's agents, or several runs a caller wants to cap together). Equal when it is
/// the same account.
#[derive(Clone)]
pub struct RunBudget {
    inner: Arc<BudgetInner>,
}

struct BudgetInner {
    limits: BudgetLimits,
    started: Instant,
    spent: Mutex<Spent>,
}

#[derive(Default)]
struct Spent {
    usage: Usage,
    cost: f64,
    tool_calls: u64,
}

impl std::fmt::Debug for RunBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunBudget").field("limits", &self.inner.limits).field("spent", &self.spent()).finish()
    }
}

impl PartialEq for RunBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl RunBudget {
    /// A new account with nothing spent; its wall time starts now.
    pub fn new(limits: BudgetLimits) -> Self {
        Self {
            inner: Arc::new(BudgetInner {
                limits,
                started: Instant::now(),
                spent: Mutex::new(Spent::default()),
            }),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &BudgetLimits {
        &self.inner.limits
    }

    /// What was spent so far.
    pub fn spent(&self) -> BudgetSpent {
        let spent = self.lock();
        BudgetSpent {
            usage: spent.usage,
            cost: spent.cost,
            tool_calls: spent.tool_calls,
            elapsed: self.inner.started.elapsed(),
        }
    }

    /// Whether a model call may start: no token, cost or wall-time limit is reached.
    pub fn check_model_call(&self) -> Result<(), BudgetOverrun> {
        let limits = &self.inner.limits;
        let spent = self.lock();
        if let Some(limit) = limits.input_tokens
            && spent.usage.input_tokens >= limit
        {
            return Err(BudgetOverrun::InputTokens { limit, used: spent.usage.input_tokens });
        }
        if let Some(limit) = limits.output_tokens
            && spent.usage.output_tokens >= limit
        {
            return Err(BudgetOverrun::OutputTokens { limit, used: spent.usage.output_tokens });
        }
        if let Some(limit) = limits.cost
            && spent.cost >= limit
        {
            return Err(BudgetOverrun::Cost { limit, used: spent.cost });
        }
        drop(spent);
        self.check_wall_time()
    }

    /// Whether a batch of `calls` tool calls may run: it stays within the tool-call limit and
    /// no other limit is reached.
    pub fn check_tool_batch(&self, calls: u64) -> Result<(), BudgetOverrun> {
        if let Some(limit) = self.inner.limits.tool_calls {
            let used = self.lock().tool_calls.saturating_add(calls);
            if used > limit {
                return Err(BudgetOverrun::ToolCalls { limit, used });
            }
        }
        self.check_model_call()
    }

    /// Whether `model` can be priced when the budget limits cost (a cost limit without a price
    /// for the model cannot be enforced).
    pub fn can_price(&self, model: &str) -> bool {
        self.inner.limits.cost.is_none() || self.inner.limits.prices.price_for(model).is_some()
    }

    /// Records a model call's usage, priced as `model`.
    pub fn record_model_call(&self, model: &str, usage: &Usage) {
        let cost = self.inner.limits.prices.price_for(model).map(|price| price.cost(usage)).unwrap_or(0.0);
        let mut spent = self.lock();
        spent.usage += *usage;
        spent.cost += cost;
    }

    /// Records `calls` tool calls.
    pub fn record_tool_calls(&self, calls: u64) {
        let mut spent = self.lock();
        spent.tool_calls = spent.tool_calls.saturating_add(calls);
    }

    fn check_wall_time(&self) -> Result<(), BudgetOverrun> {
        if let Some(limit) = self.inner.limits.wall_time {
            let used = self.inner.started.elapsed();
            if used >= limit {
                return Err(BudgetOverrun::WallTime { limit, used });
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spent> {
        // The counters stay valid whatever a panicking holder did: take them back.
        self.inner.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The budgets one agent run draws from: the agent's own (a fresh account per run) and the
/// caller's (shared).
#[derive(Debug, Clone, Default)]
pub(crate) struct RunBudgets {
    accounts: Vec<RunBudget>,
}

impl RunBudgets {
    pub(crate) fn new(agent: Option<&BudgetLimits>, run: Option<&RunBudget>) -> Self {
        let mut accounts = Vec::with_capacity(2);
        if let Some(limits) = agent {
            accounts.push(RunBudget::new(limits.clone()));
        }
        if let Some(run) = run {
            accounts.push(run.clone());
        }
        Self { accounts }
    }

    pub(crate) fn check_model_call(&self) -> Result<(), BudgetOverrun> {
        self.accounts.iter().try_for_each(RunBudget::check_model_call)
    }

    pub(crate) fn check_tool_batch(&self, calls: u64) -> Result<(), BudgetOverrun> {
        self.accounts.iter().try_for_each(|account| account.check_tool_batch(calls))
    }

    /// The first account that limits cost but has no price for `model`.
    pub(crate) fn unpriced(&self, model: &str) -> bool {
        self.accounts.iter().any(|account| !account.can_price(model))
    }

    pub(crate) fn record_model_call(&self, model: &str, usage: &Usage) {
        self.accounts.iter().for_each(|account| account.record_model_call(model, usage));
    }

    pub(crate) fn record_tool_calls(&self, calls: u64) {
        self.accounts.iter().for_each(|account| account.record_tool_calls(calls));
    }

    /// This run's cost, when some account prices its models.
    pub(crate) fn priced(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.accounts
            .iter()
            .find_map(|account| account.limits().prices.price_for(model))
            .map(|p| p.cost(usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_count_cached_input_at_its_own_price() {
        let price = ModelPrice::new(2.0, 8.0).with_cached_input(0.5);
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
            cache_read_input_tokens: 400_000,
            ..Usage::default()
        };
        assert!((price.cost(&usage) - (0.6 * 2.0 + 0.4 * 0.5 + 0.5 * 8.0)).abs() < 1e-9);
    }

    #[test]
    fn a_model_takes_the_price_of_its_longest_prefix() {
        let table = PriceTable::new()
            .with("gpt-4", ModelPrice::new(30.0, 60.0))
            .with("gpt-4.1", ModelPrice::new(2.0, 8.0));
        assert_eq!(table.price_for("gpt-4.1-2025-04-14").map(|p| p.input_per_million), Some(2.0));
        assert_eq!(table.price_for("gpt-4-turbo").map(|p| p.input_per_million), Some(30.0));
        assert!(table.price_for("claude").is_none());
    }

    #[test]
    fn a_tool_batch_that_would_pass_the_limit_is_refused_whole() {
        let budget = RunBudget::new(BudgetLimits::new().max_tool_calls(3));
        assert!(budget.check_tool_batch(2).is_ok());
        budget.record_tool_calls(2);
        assert_eq!(budget.check_tool_batch(2), Err(BudgetOverrun::ToolCalls { limit: 3, used: 4 }));
        assert!(budget.check_tool_batch(1).is_ok());
    }

    #[test]
    fn clones_share_one_account() {
        let budget = RunBudget::new(BudgetLimits::new().max_output_tokens(10));
        let clone = budget.clone();
        clone.record_model_call("m", &Usage::new(5, 10));
        assert_eq!(budget, clone);
        assert_eq!(budget.check_model_call(), Err(BudgetOverrun::OutputTokens { limit: 10, used: 10 }));
        assert_ne!(budget, RunBudget::new(BudgetLimits::new()));
    }
}
