# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_netpol_global_optspecs
    string join \n f/filename= n/namespace= A/all-namespaces l/selector= kubeconfig= context= no-color v/verbose h/help V/version
end

function __fish_kubectl_netpol_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_netpol_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_netpol_using_subcommand
    set -l cmd (__fish_kubectl_netpol_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "explain" -d 'Explain which policies select a pod, what a policy does, or why traffic is allowed or denied'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "matrix" -d 'The expected connectivity matrix (live, or from manifests with -f)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "probe" -d 'Send real packets and compare what the network does with what the policies promise'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "cleanup" -d 'Remove everything the tool left behind: prober pods and their owners in the cluster (all namespaces), or with --local the network namespaces of killed runs'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "lab" -d 'CKA-style labs: list, start, check your policies, hints, solution, reset'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "lint" -d 'Find policies that are probably not what their author meant (exit 1 on findings)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "diff" -d 'What a change opens and closes: connections that become allowed or denied, OLD -> NEW'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "enforcer" -d 'The enforcer: `rules` it would install on a node, agents\' `status`, recent `drops`'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "install-enforcer" -d 'Install the enforcer DaemonSet (for CNIs that ignore NetworkPolicy: flannel, old kindnet)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "uninstall-enforcer" -d 'Remove the enforcer; every agent removes its chains, rules and ipsets as it stops'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "completion" -d 'Print shell completions: bash, zsh, fish or powershell'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s o -l output -d 'Output format: table, json or yaml' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -f -a "pod" -d 'Which policies select this pod, and what they let in and out'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -f -a "policy" -d 'What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -f -a "traffic" -d 'Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and not __fish_seen_subcommand_from pod policy traffic help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s o -l output -d 'Output format: table, json or yaml' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from pod" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s o -l output -d 'Output format: table, json or yaml' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from policy" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s p -l port -d 'The probe, e.g. tcp/8080, udp/53, sctp/9000' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s o -l output -d 'Output format: table, json or yaml' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from traffic" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "pod" -d 'Which policies select this pod, and what they let in and out'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "policy" -d 'What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "traffic" -d 'Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -l ports -d 'Probes to compute, e.g. tcp/80,udp/53 (default: every port the policies and pods name)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s o -l output -d 'Output format: table, json, yaml, csv, markdown, mermaid or dot (graphs of the allowed flows, pods grouped by namespace), or summary (counts only, for very large clusters)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand matrix" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l ports -d 'Probes to send, e.g. tcp/80,udp/53 (default: every port the policies and pods name)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l timeout -d 'How long one check waits before calling it dropped (e.g. 1s, 500ms)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l concurrency -d 'Checks in flight inside one source pod' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s o -l output -d 'Output format: table, json, yaml, csv, markdown or junit (one test case per connection, a failure for each disagreement)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l image -d 'The prober image for prober pods (and --in-place containers); it must hold the agent as /netpol-prober (prober/Dockerfile)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l to -d 'Also probe this endpoint outside the cluster from every pod: IP:PORT (TCP), udp/IP:PORT, [IPv6]:PORT. Repeatable' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l start-timeout -d 'How long prober pods may take to start (image pull included)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l apply -d 'Measure a change: apply these NetworkPolicies (with --local also cluster policies; file or directory; repeatable) and report how long until the pairs it flips behave as the engine says, and whether connections opened before a deny survive it. The previous policies are restored afterwards' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l delete -d 'Measure a change that deletes this NetworkPolicy (networkpolicy/NAME or networkpolicy/NS/NAME), or with --local this cluster policy (cnp/NAME, anp/NAME, banp/default); repeatable' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l interval -d 'With --apply/--delete: time between two rounds of new connections' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l settle -d 'With --apply/--delete: how long the flipped pairs may take to match three times in a row' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l local -d 'Run on this Linux host: pods become network namespaces, the enforcer\'s rules are applied between them, real packets are sent. Needs root (or CAP_NET_ADMIN), iptables and ipset'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l no-enforce -d 'With --local: do not apply the enforcer\'s rules, as on a CNI that ignores NetworkPolicy (shows what `probe` reports there)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l in-place -d 'Probe from ephemeral containers inside the real pods (kubectl debug style) instead of prober pods. Needs Kubernetes 1.23+; leaves a terminated ephemeral container in the spec of every probed pod (they cannot be removed)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l no-dns -d 'Do not resolve the cluster DNS and the targets\' Service names from every pod'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l keep -d 'With --apply/--delete: leave the change in place'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l require-cut -d 'With --apply/--delete: an established connection that survives a new deny is a failure (exit 1)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l new-pod -d 'With --apply/--delete on a cluster: after the change, start one more prober in the namespace of the change and measure how long it could send or receive what its policies deny (the new-pod window; 0 is the goal)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l terminate-established -d 'With --local --apply: run the sandbox\'s enforcer with --terminate-established (open connections a change denies are cut)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand probe" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -l local -d 'Remove what `probe --local` runs left on this host (network namespaces netpol-*, and with them their links, chains and sets)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand cleanup" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "list" -d 'List the labs: name, level, title'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "start" -d 'Create the lab\'s namespaces, pods and policies in the cluster and print the task (--local: print the task only; the sandbox is built per check)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "check" -d 'Check your policies against the lab\'s required connections: from the cluster (policies in the lab\'s namespaces), or from files with -f'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "hint" -d 'Print a hint: the first, or hint N'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "solution" -d 'Print the reference solution, ready for `kubectl apply -f -`'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "setup" -d 'Print the lab\'s setup manifests (what start creates)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "reset" -d 'Delete the lab\'s namespaces (only those that carry its kubectl-netpol/lab label)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "verify" -d 'Check the catalogue\'s invariants (for lab authors, with --catalogue DIR)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and not __fish_seen_subcommand_from list start check hint solution setup reset verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -l local -d 'No cluster: print the task and write nothing'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -l force -d 'Take over lab namespaces that already exist without this lab\'s label'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l timeout -d 'With --probe: how long one check waits before calling it dropped' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l image -d 'With --probe on a cluster: the prober image' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l local -d 'No cluster: judge setup + your -f policies here (with --probe: real packets in network namespaces on this host, as root)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l probe -d 'Also send real packets for every check'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from hint" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from solution" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from setup" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -l local -d 'No cluster: nothing to delete (the sandbox removes itself after every check)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format: table, json or yaml (list and check)' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -l catalogue -d 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the labs: name, level, title'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "start" -d 'Create the lab\'s namespaces, pods and policies in the cluster and print the task (--local: print the task only; the sandbox is built per check)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check your policies against the lab\'s required connections: from the cluster (policies in the lab\'s namespaces), or from files with -f'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "hint" -d 'Print a hint: the first, or hint N'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "solution" -d 'Print the reference solution, ready for `kubectl apply -f -`'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "setup" -d 'Print the lab\'s setup manifests (what start creates)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Delete the lab\'s namespaces (only those that carry its kubectl-netpol/lab label)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the catalogue\'s invariants (for lab authors, with --catalogue DIR)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -l severity -d 'Show findings at or above this severity, and exit 1 when there is one' -r -f -a "info\t''
warning\t''
error\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s o -l output -d 'Output format: table, json, yaml, markdown or sarif (SARIF 2.1.0, for code scanning)' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand lint" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -l ports -d 'Probes to compare, e.g. tcp/80,udp/53 (default: every port either side names)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s o -l output -d 'Output format: table, json, yaml or markdown' -r -f -a "table\t''
json\t''
yaml\t''
markdown\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -l exit-code -d 'Exit 1 when any connection becomes allowed or denied (like `git diff --exit-code`)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand diff" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -f -a "rules" -d 'Print the ipsets and iptables rules the enforcer would install on a node (a dry run of its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -f -a "status" -d 'Per node: is the agent ready, when did it last sync, how many rules and set members it installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -f -a "drops" -d 'Recent packets the enforcer dropped, mapped back to the pod, the direction and the policies that isolate it (newest last)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and not __fish_seen_subcommand_from rules status drops help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -l node -d 'The node whose pods to compile for (default: every pod, as `probe --local` does)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from rules" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s o -l output -d 'table or json' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -l node -d 'Only the agent on this node' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -l pod -d 'Only drops involving this pod (`namespace/name`), as the isolated pod or the peer' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -l limit -d 'At most this many (the newest)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s o -l output -d 'table or json' -r -f -a "table\t''
json\t''
yaml\t''
csv\t''
summary\t''
markdown\t''
junit\t''
mermaid\t''
dot\t''
sarif\t''"
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from drops" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from help" -f -a "rules" -d 'Print the ipsets and iptables rules the enforcer would install on a node (a dry run of its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from help" -f -a "status" -d 'Per node: is the agent ready, when did it last sync, how many rules and set members it installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from help" -f -a "drops" -d 'Recent packets the enforcer dropped, mapped back to the pod, the direction and the policies that isolate it (newest last)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand enforcer; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l image -d 'The agent image (default: this version\'s release image)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l cni-conf-dir -d 'The nodes\' CNI configuration directory (where the agent chains its CNI plugin into the conflist the runtime uses)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l cni-bin-dir -d 'The nodes\' CNI plugin directory (the agent copies its plugin there)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l timeout -d 'How long to wait for the agents to be ready on every node' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l dry-run -d 'Print the objects that would be applied (YAML) and change nothing'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l force -d 'Install even when a network plugin that enforces NetworkPolicy itself (Calico, Cilium, kube-router, Antrea, Weave Net, ...) is detected'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l no-cni-chain -d 'Do not chain the CNI plugin: pods start without waiting for the agent, and their traffic is held (dropped) until the agent has placed them'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l terminate-established -d 'When an update denies connections that are already open, the agents delete their conntrack entries so the deny cuts them too (default: open connections keep flowing until they close)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand install-enforcer" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -l timeout -d 'How long to wait for the agents to stop (each removes its rules on the way out)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand uninstall-enforcer" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s f -l filename -d 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s n -l namespace -d 'Namespace scope (repeatable); also the namespace of pod and policy names written without one' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s l -l selector -d 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -l dynamic -d 'Print a script that asks the binary for candidates, so pod, policy, namespace, context and lab names complete too (the same as `KUBECTL_NETPOL_COMPLETE=SHELL kubectl-netpol`)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -l no-color -d 'Never colour the output (NO_COLOR and non-terminals are respected too)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s v -l verbose -d 'Say more (e.g. list objects of kinds that were skipped)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "explain" -d 'Explain which policies select a pod, what a policy does, or why traffic is allowed or denied'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "matrix" -d 'The expected connectivity matrix (live, or from manifests with -f)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "probe" -d 'Send real packets and compare what the network does with what the policies promise'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "cleanup" -d 'Remove everything the tool left behind: prober pods and their owners in the cluster (all namespaces), or with --local the network namespaces of killed runs'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "lab" -d 'CKA-style labs: list, start, check your policies, hints, solution, reset'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "lint" -d 'Find policies that are probably not what their author meant (exit 1 on findings)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "diff" -d 'What a change opens and closes: connections that become allowed or denied, OLD -> NEW'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "enforcer" -d 'The enforcer: `rules` it would install on a node, agents\' `status`, recent `drops`'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "install-enforcer" -d 'Install the enforcer DaemonSet (for CNIs that ignore NetworkPolicy: flannel, old kindnet)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "uninstall-enforcer" -d 'Remove the enforcer; every agent removes its chains, rules and ipsets as it stops'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "completion" -d 'Print shell completions: bash, zsh, fish or powershell'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and not __fish_seen_subcommand_from explain matrix probe cleanup lab lint diff enforcer install-enforcer uninstall-enforcer completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from explain" -f -a "pod" -d 'Which policies select this pod, and what they let in and out'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from explain" -f -a "policy" -d 'What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from explain" -f -a "traffic" -d 'Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "list" -d 'List the labs: name, level, title'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "start" -d 'Create the lab\'s namespaces, pods and policies in the cluster and print the task (--local: print the task only; the sandbox is built per check)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "check" -d 'Check your policies against the lab\'s required connections: from the cluster (policies in the lab\'s namespaces), or from files with -f'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "hint" -d 'Print a hint: the first, or hint N'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "solution" -d 'Print the reference solution, ready for `kubectl apply -f -`'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "setup" -d 'Print the lab\'s setup manifests (what start creates)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "reset" -d 'Delete the lab\'s namespaces (only those that carry its kubectl-netpol/lab label)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "verify" -d 'Check the catalogue\'s invariants (for lab authors, with --catalogue DIR)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from enforcer" -f -a "rules" -d 'Print the ipsets and iptables rules the enforcer would install on a node (a dry run of its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from enforcer" -f -a "status" -d 'Per node: is the agent ready, when did it last sync, how many rules and set members it installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready)'
complete -c kubectl-netpol -n "__fish_kubectl_netpol_using_subcommand help; and __fish_seen_subcommand_from enforcer" -f -a "drops" -d 'Recent packets the enforcer dropped, mapped back to the pod, the direction and the policies that isolate it (newest last)'
