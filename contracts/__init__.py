"""The contract tests: each test names the clause(s) it enforces with @pytest.mark.clause."""
