"""Runs moto's server on 127.0.0.1:PORT, with two fixes that make it behave like AWS.

    python scripts/moto-server.py PORT [--exit-with-parent]

--exit-with-parent: exit when the process that started this one dies (the integration tests
start one emulator per test process; nothing is left running when they end, however they end).

The fix: moto 5.2.5 does not refresh a stack's outputs (nor its tags) when it executes a change
set, so a stack created or updated through a change set reports no outputs, or the old ones.
AWS reports the new outputs. little deploys through change sets and reads dependency outputs,
so the launcher refreshes them after moto's own ExecuteChangeSet.

The second: moto 5.2.5 fails with an HTTP 500 (a Python error) when asked to delete a change
set that does not exist; AWS answers with a ChangeSetNotFound error. A 500 is retried by every
SDK, so each such call took seconds. The launcher answers as AWS does. Nothing else is changed.
"""
import os
import sys
import threading
import time


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def refresh_outputs_after_change_sets() -> None:
    from moto.cloudformation import models

    original = models.CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name)
        if change_set is None:
            for candidate in self.change_sets.values():
                same_name = candidate.change_set_name == change_set_name
                same_stack = stack_name in (None, candidate.stack_name, candidate.stack_id)
                if same_name and same_stack and candidate.execution_status == "EXECUTE_COMPLETE":
                    change_set = candidate
        if change_set is None:
            return
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        if change_set.tags:
            stack.tags = change_set.tags

    models.CloudFormationBackend.execute_change_set = execute_change_set


def change_set_not_found_on_delete() -> None:
    from moto.cloudformation import models
    from moto.cloudformation.exceptions import CloudFormationError

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFound"

        def __init__(self, name: str):
            super().__init__(f"ChangeSet [{name}] does not exist")
            self.code = "ChangeSetNotFound"

    original = models.CloudFormationBackend.delete_change_set

    def delete_change_set(self, change_set_name: str) -> None:
        known = change_set_name in self.change_sets or any(
            cs.change_set_name == change_set_name for cs in self.change_sets.values()
        )
        if not known:
            raise ChangeSetNotFound(change_set_name)
        original(self, change_set_name)

    models.CloudFormationBackend.delete_change_set = delete_change_set


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    port = args[0]
    if "--exit-with-parent" in args:
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    refresh_outputs_after_change_sets()
    change_set_not_found_on_delete()
    from moto.server import main as moto_main

    return moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    sys.exit(main() or 0)
