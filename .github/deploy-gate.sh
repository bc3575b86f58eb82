#!/usr/bin/env bash
# The deploy gate of one stack (deploy.yml runs it before each `pulumi up`):
#
#   .github/deploy-gate.sh <stack>
#
# 1. The judge is the code of the commit this stack last deployed (the stack tag
#    lakeflow:deployed-commit, set after each successful `pulumi up`), checked out apart from the
#    commit being deployed: a change to the guard, to the rules of what holds data or to the
#    policy pack never judges itself. With no usable tag (the first deploy through this
#    workflow), the judge is the parent commit.
# 2. The real engine previews the commit being deployed against the stack's real state, with the
#    judge's policy pack (`pulumi preview --json`).
# 3. The judge's data-loss guard (`make diff ENGINE_PREVIEW=`) refuses what that preview would
#    delete, replace or move of data, unless acknowledged by an `allow-destroy: <urn>` line in a
#    commit message since the judge's commit: every change since the last deploy, including
#    pushes whose own runs were cancelled or failed, is judged here.
#
# Prints JUDGE=<dir> (for the policy pack of `pulumi up`) to $GITHUB_ENV when that is set.
# Exit: 0 pass, 1 refused by the guard, 2 could not judge (a failed preview, which includes a
# mandatory policy violation of the judge's pack).
set -euo pipefail

stack="${1:-}"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "deploy-gate: stack name ${stack@Q} is not a Pulumi stack name" >&2; exit 2; }

work="$(mktemp -d "${RUNNER_TEMP:-/tmp}/judge-XXXXXX")"
judge="$(pulumi stack tag get lakeflow:deployed-commit --stack "$stack" 2>/dev/null || true)"
if [[ "$judge" =~ ^[0-9a-f]{40}$ ]] && git merge-base --is-ancestor "$judge" HEAD 2>/dev/null; then
  echo "deploy-gate: judged by $judge, the commit stack $stack last deployed"
else
  [[ -z "$judge" ]] || echo "deploy-gate: ignoring lakeflow:deployed-commit ${judge@Q}: not a commit before this one" >&2
  judge="$(git rev-parse HEAD~1 2>/dev/null || git rev-parse HEAD)"
  echo "::warning::stack $stack records no deployed commit: judged by the parent commit $judge"
fi
git worktree add --detach --quiet "$work/judge" "$judge" || exit 2
# The judge's own pins (`make venv`), or a virtualenv already installed with them
# (LAKEFLOW_JUDGE_VENV, which the tests use to skip the install).
if [[ -n "${LAKEFLOW_JUDGE_VENV:-}" ]]; then
  ln -s "$LAKEFLOW_JUDGE_VENV" "$work/judge/.venv"
else
  make --no-print-directory -C "$work/judge" venv >/dev/null || exit 2
fi

git log --format=%B "$judge..HEAD" > "$work/acknowledgements.txt"
pulumi preview --stack "$stack" --json --non-interactive \
  --policy-pack "$work/judge/policy" --policy-pack-config "$work/judge/policy/config/$stack.json" \
  > "$work/preview.json" || {
    cat "$work/preview.json" >&2
    echo "deploy-gate: pulumi preview of $stack failed (an error, or a mandatory policy of the judge's pack: above)" >&2
    exit 2
  }
# The judge's own interpreter and code (not through make, which would turn the guard's 1 into 2).
# The judge's own command (bin/lakeflow runs its checkout's code, whatever layout that commit has).
"$work/judge/bin/lakeflow" diff --stack "$stack" --engine-preview "$work/preview.json" \
  --acknowledgements "$work/acknowledgements.txt" && status=0 || status=$?
if [[ -n "${GITHUB_ENV:-}" ]]; then echo "JUDGE=$work/judge" >> "$GITHUB_ENV"; fi
exit "$status"
