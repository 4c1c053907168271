"""Installing Istio and checking an installation: everything behind `install`, `uninstall`, `verify-install`, `precheck`.

`installer` applies a render component by component and prunes what left it;
`kinds` says which objects install owns and how to select them; `lock` keeps
two installs apart; `diff` compares live and desired objects; `uninstall`
plans and performs removal; `checks` is the small check runner that
`precheck` and `verify` use; `permissions` lists what install and uninstall
need for the RBAC pre-flight (kube/permissions.py). Modules here may import
render/, kube/ and the rule modules, never cli/ or context.py.
"""
