
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-netpol' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-netpol'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-netpol' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain which policies select a pod, what a policy does, or why traffic is allowed or denied')
            [CompletionResult]::new('matrix', 'matrix', [CompletionResultType]::ParameterValue, 'The expected connectivity matrix (live, or from manifests with -f)')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Send real packets and compare what the network does with what the policies promise')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Remove everything the tool left behind: prober pods and their owners in the cluster (all namespaces), or with --local the network namespaces of killed runs')
            [CompletionResult]::new('lab', 'lab', [CompletionResultType]::ParameterValue, 'CKA-style labs: list, start, check your policies, hints, solution, reset')
            [CompletionResult]::new('lint', 'lint', [CompletionResultType]::ParameterValue, 'Find policies that are probably not what their author meant (exit 1 on findings)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'What a change opens and closes: connections that become allowed or denied, OLD -> NEW')
            [CompletionResult]::new('enforcer', 'enforcer', [CompletionResultType]::ParameterValue, 'The enforcer: `rules` it would install on a node, agents'' `status`, recent `drops`')
            [CompletionResult]::new('install-enforcer', 'install-enforcer', [CompletionResultType]::ParameterValue, 'Install the enforcer DaemonSet (for CNIs that ignore NetworkPolicy: flannel, old kindnet)')
            [CompletionResult]::new('uninstall-enforcer', 'uninstall-enforcer', [CompletionResultType]::ParameterValue, 'Remove the enforcer; every agent removes its chains, rules and ipsets as it stops')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print shell completions: bash, zsh, fish or powershell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;explain' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('pod', 'pod', [CompletionResultType]::ParameterValue, 'Which policies select this pod, and what they let in and out')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default)')
            [CompletionResult]::new('traffic', 'traffic', [CompletionResultType]::ParameterValue, 'Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;explain;pod' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;explain;policy' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;explain;traffic' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The probe, e.g. tcp/8080, udp/53, sctp/9000')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The probe, e.g. tcp/8080, udp/53, sctp/9000')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;explain;help' {
            [CompletionResult]::new('pod', 'pod', [CompletionResultType]::ParameterValue, 'Which policies select this pod, and what they let in and out')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default)')
            [CompletionResult]::new('traffic', 'traffic', [CompletionResultType]::ParameterValue, 'Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;explain;help;pod' {
            break
        }
        'kubectl-netpol;explain;help;policy' {
            break
        }
        'kubectl-netpol;explain;help;traffic' {
            break
        }
        'kubectl-netpol;explain;help;help' {
            break
        }
        'kubectl-netpol;matrix' {
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Probes to compute, e.g. tcp/80,udp/53 (default: every port the policies and pods name)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml, csv, markdown, mermaid or dot (graphs of the allowed flows, pods grouped by namespace), or summary (counts only, for very large clusters)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml, csv, markdown, mermaid or dot (graphs of the allowed flows, pods grouped by namespace), or summary (counts only, for very large clusters)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;probe' {
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Probes to send, e.g. tcp/80,udp/53 (default: every port the policies and pods name)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long one check waits before calling it dropped (e.g. 1s, 500ms)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Checks in flight inside one source pod')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml, csv, markdown or junit (one test case per connection, a failure for each disagreement)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml, csv, markdown or junit (one test case per connection, a failure for each disagreement)')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The prober image for prober pods (and --in-place containers); it must hold the agent as /netpol-prober (prober/Dockerfile)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Also probe this endpoint outside the cluster from every pod: IP:PORT (TCP), udp/IP:PORT, [IPv6]:PORT. Repeatable')
            [CompletionResult]::new('--start-timeout', '--start-timeout', [CompletionResultType]::ParameterName, 'How long prober pods may take to start (image pull included)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Measure a change: apply these NetworkPolicies (with --local also cluster policies; file or directory; repeatable) and report how long until the pairs it flips behave as the engine says, and whether connections opened before a deny survive it. The previous policies are restored afterwards')
            [CompletionResult]::new('--delete', '--delete', [CompletionResultType]::ParameterName, 'Measure a change that deletes this NetworkPolicy (networkpolicy/NAME or networkpolicy/NS/NAME), or with --local this cluster policy (cnp/NAME, anp/NAME, banp/default); repeatable')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With --apply/--delete: time between two rounds of new connections')
            [CompletionResult]::new('--settle', '--settle', [CompletionResultType]::ParameterName, 'With --apply/--delete: how long the flipped pairs may take to match three times in a row')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Run on this Linux host: pods become network namespaces, the enforcer''s rules are applied between them, real packets are sent. Needs root (or CAP_NET_ADMIN), iptables and ipset')
            [CompletionResult]::new('--no-enforce', '--no-enforce', [CompletionResultType]::ParameterName, 'With --local: do not apply the enforcer''s rules, as on a CNI that ignores NetworkPolicy (shows what `probe` reports there)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Probe from ephemeral containers inside the real pods (kubectl debug style) instead of prober pods. Needs Kubernetes 1.23+; leaves a terminated ephemeral container in the spec of every probed pod (they cannot be removed)')
            [CompletionResult]::new('--no-dns', '--no-dns', [CompletionResultType]::ParameterName, 'Do not resolve the cluster DNS and the targets'' Service names from every pod')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'With --apply/--delete: leave the change in place')
            [CompletionResult]::new('--require-cut', '--require-cut', [CompletionResultType]::ParameterName, 'With --apply/--delete: an established connection that survives a new deny is a failure (exit 1)')
            [CompletionResult]::new('--new-pod', '--new-pod', [CompletionResultType]::ParameterName, 'With --apply/--delete on a cluster: after the change, start one more prober in the namespace of the change and measure how long it could send or receive what its policies deny (the new-pod window; 0 is the goal)')
            [CompletionResult]::new('--terminate-established', '--terminate-established', [CompletionResultType]::ParameterName, 'With --local --apply: run the sandbox''s enforcer with --terminate-established (open connections a change denies are cut)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;cleanup' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Remove what `probe --local` runs left on this host (network namespaces netpol-*, and with them their links, chains and sets)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the labs: name, level, title')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Create the lab''s namespaces, pods and policies in the cluster and print the task (--local: print the task only; the sandbox is built per check)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check your policies against the lab''s required connections: from the cluster (policies in the lab''s namespaces), or from files with -f')
            [CompletionResult]::new('hint', 'hint', [CompletionResultType]::ParameterValue, 'Print a hint: the first, or hint N')
            [CompletionResult]::new('solution', 'solution', [CompletionResultType]::ParameterValue, 'Print the reference solution, ready for `kubectl apply -f -`')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Print the lab''s setup manifests (what start creates)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Delete the lab''s namespaces (only those that carry its kubectl-netpol/lab label)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the catalogue''s invariants (for lab authors, with --catalogue DIR)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;lab;list' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;start' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'No cluster: print the task and write nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Take over lab namespaces that already exist without this lab''s label')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;check' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --probe: how long one check waits before calling it dropped')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'With --probe on a cluster: the prober image')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'No cluster: judge setup + your -f policies here (with --probe: real packets in network namespaces on this host, as root)')
            [CompletionResult]::new('--probe', '--probe', [CompletionResultType]::ParameterName, 'Also send real packets for every check')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;hint' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;solution' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;setup' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;reset' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'No cluster: nothing to delete (the sandbox removes itself after every check)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;verify' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json or yaml (list and check)')
            [CompletionResult]::new('--catalogue', '--catalogue', [CompletionResultType]::ParameterName, 'Read the labs from this folder (laid out like manifests/labs) instead of the built-in catalogue: for lab authors')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;lab;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the labs: name, level, title')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Create the lab''s namespaces, pods and policies in the cluster and print the task (--local: print the task only; the sandbox is built per check)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check your policies against the lab''s required connections: from the cluster (policies in the lab''s namespaces), or from files with -f')
            [CompletionResult]::new('hint', 'hint', [CompletionResultType]::ParameterValue, 'Print a hint: the first, or hint N')
            [CompletionResult]::new('solution', 'solution', [CompletionResultType]::ParameterValue, 'Print the reference solution, ready for `kubectl apply -f -`')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Print the lab''s setup manifests (what start creates)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Delete the lab''s namespaces (only those that carry its kubectl-netpol/lab label)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the catalogue''s invariants (for lab authors, with --catalogue DIR)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;lab;help;list' {
            break
        }
        'kubectl-netpol;lab;help;start' {
            break
        }
        'kubectl-netpol;lab;help;check' {
            break
        }
        'kubectl-netpol;lab;help;hint' {
            break
        }
        'kubectl-netpol;lab;help;solution' {
            break
        }
        'kubectl-netpol;lab;help;setup' {
            break
        }
        'kubectl-netpol;lab;help;reset' {
            break
        }
        'kubectl-netpol;lab;help;verify' {
            break
        }
        'kubectl-netpol;lab;help;help' {
            break
        }
        'kubectl-netpol;lint' {
            [CompletionResult]::new('--severity', '--severity', [CompletionResultType]::ParameterName, 'Show findings at or above this severity, and exit 1 when there is one')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml, markdown or sarif (SARIF 2.1.0, for code scanning)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml, markdown or sarif (SARIF 2.1.0, for code scanning)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;diff' {
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Probes to compare, e.g. tcp/80,udp/53 (default: every port either side names)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml or markdown')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table, json, yaml or markdown')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 1 when any connection becomes allowed or denied (like `git diff --exit-code`)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;enforcer' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'Print the ipsets and iptables rules the enforcer would install on a node (a dry run of its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Per node: is the agent ready, when did it last sync, how many rules and set members it installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready)')
            [CompletionResult]::new('drops', 'drops', [CompletionResultType]::ParameterValue, 'Recent packets the enforcer dropped, mapped back to the pod, the direction and the policies that isolate it (newest last)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;enforcer;rules' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The node whose pods to compile for (default: every pod, as `probe --local` does)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;enforcer;status' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'table or json')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'table or json')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;enforcer;drops' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only the agent on this node')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only drops involving this pod (`namespace/name`), as the isolated pod or the peer')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many (the newest)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'table or json')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'table or json')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;enforcer;help' {
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'Print the ipsets and iptables rules the enforcer would install on a node (a dry run of its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Per node: is the agent ready, when did it last sync, how many rules and set members it installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready)')
            [CompletionResult]::new('drops', 'drops', [CompletionResultType]::ParameterValue, 'Recent packets the enforcer dropped, mapped back to the pod, the direction and the policies that isolate it (newest last)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;enforcer;help;rules' {
            break
        }
        'kubectl-netpol;enforcer;help;status' {
            break
        }
        'kubectl-netpol;enforcer;help;drops' {
            break
        }
        'kubectl-netpol;enforcer;help;help' {
            break
        }
        'kubectl-netpol;install-enforcer' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The agent image (default: this version''s release image)')
            [CompletionResult]::new('--cni-conf-dir', '--cni-conf-dir', [CompletionResultType]::ParameterName, 'The nodes'' CNI configuration directory (where the agent chains its CNI plugin into the conflist the runtime uses)')
            [CompletionResult]::new('--cni-bin-dir', '--cni-bin-dir', [CompletionResultType]::ParameterName, 'The nodes'' CNI plugin directory (the agent copies its plugin there)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the agents to be ready on every node')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the objects that would be applied (YAML) and change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Install even when a network plugin that enforces NetworkPolicy itself (Calico, Cilium, kube-router, Antrea, Weave Net, ...) is detected')
            [CompletionResult]::new('--no-cni-chain', '--no-cni-chain', [CompletionResultType]::ParameterName, 'Do not chain the CNI plugin: pods start without waiting for the agent, and their traffic is held (dropped) until the agent has placed them')
            [CompletionResult]::new('--terminate-established', '--terminate-established', [CompletionResultType]::ParameterName, 'When an update denies connections that are already open, the agents delete their conntrack entries so the deny cuts them too (default: open connections keep flowing until they close)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;uninstall-enforcer' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the agents to stop (each removes its rules on the way out)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;completion' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifests to read instead of the live cluster: a file, a directory (searched recursively for .yaml/.yml/.json) or - for stdin. Repeatable')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace scope (repeatable); also the namespace of pod and policy names written without one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Only pods matching this label selector (kubectl syntax, e.g. app=web,tier!=db)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--dynamic', '--dynamic', [CompletionResultType]::ParameterName, 'Print a script that asks the binary for candidates, so pod, policy, namespace, context and lab names complete too (the same as `KUBECTL_NETPOL_COMPLETE=SHELL kubectl-netpol`)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Every namespace')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (NO_COLOR and non-terminals are respected too)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (e.g. list objects of kinds that were skipped)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netpol;help' {
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain which policies select a pod, what a policy does, or why traffic is allowed or denied')
            [CompletionResult]::new('matrix', 'matrix', [CompletionResultType]::ParameterValue, 'The expected connectivity matrix (live, or from manifests with -f)')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Send real packets and compare what the network does with what the policies promise')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Remove everything the tool left behind: prober pods and their owners in the cluster (all namespaces), or with --local the network namespaces of killed runs')
            [CompletionResult]::new('lab', 'lab', [CompletionResultType]::ParameterValue, 'CKA-style labs: list, start, check your policies, hints, solution, reset')
            [CompletionResult]::new('lint', 'lint', [CompletionResultType]::ParameterValue, 'Find policies that are probably not what their author meant (exit 1 on findings)')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'What a change opens and closes: connections that become allowed or denied, OLD -> NEW')
            [CompletionResult]::new('enforcer', 'enforcer', [CompletionResultType]::ParameterValue, 'The enforcer: `rules` it would install on a node, agents'' `status`, recent `drops`')
            [CompletionResult]::new('install-enforcer', 'install-enforcer', [CompletionResultType]::ParameterValue, 'Install the enforcer DaemonSet (for CNIs that ignore NetworkPolicy: flannel, old kindnet)')
            [CompletionResult]::new('uninstall-enforcer', 'uninstall-enforcer', [CompletionResultType]::ParameterValue, 'Remove the enforcer; every agent removes its chains, rules and ipsets as it stops')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print shell completions: bash, zsh, fish or powershell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netpol;help;explain' {
            [CompletionResult]::new('pod', 'pod', [CompletionResultType]::ParameterValue, 'Which policies select this pod, and what they let in and out')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default)')
            [CompletionResult]::new('traffic', 'traffic', [CompletionResultType]::ParameterValue, 'Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss')
            break
        }
        'kubectl-netpol;help;explain;pod' {
            break
        }
        'kubectl-netpol;help;explain;policy' {
            break
        }
        'kubectl-netpol;help;explain;traffic' {
            break
        }
        'kubectl-netpol;help;matrix' {
            break
        }
        'kubectl-netpol;help;probe' {
            break
        }
        'kubectl-netpol;help;cleanup' {
            break
        }
        'kubectl-netpol;help;lab' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the labs: name, level, title')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Create the lab''s namespaces, pods and policies in the cluster and print the task (--local: print the task only; the sandbox is built per check)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check your policies against the lab''s required connections: from the cluster (policies in the lab''s namespaces), or from files with -f')
            [CompletionResult]::new('hint', 'hint', [CompletionResultType]::ParameterValue, 'Print a hint: the first, or hint N')
            [CompletionResult]::new('solution', 'solution', [CompletionResultType]::ParameterValue, 'Print the reference solution, ready for `kubectl apply -f -`')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Print the lab''s setup manifests (what start creates)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Delete the lab''s namespaces (only those that carry its kubectl-netpol/lab label)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the catalogue''s invariants (for lab authors, with --catalogue DIR)')
            break
        }
        'kubectl-netpol;help;lab;list' {
            break
        }
        'kubectl-netpol;help;lab;start' {
            break
        }
        'kubectl-netpol;help;lab;check' {
            break
        }
        'kubectl-netpol;help;lab;hint' {
            break
        }
        'kubectl-netpol;help;lab;solution' {
            break
        }
        'kubectl-netpol;help;lab;setup' {
            break
        }
        'kubectl-netpol;help;lab;reset' {
            break
        }
        'kubectl-netpol;help;lab;verify' {
            break
        }
        'kubectl-netpol;help;lint' {
            break
        }
        'kubectl-netpol;help;diff' {
            break
        }
        'kubectl-netpol;help;enforcer' {
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'Print the ipsets and iptables rules the enforcer would install on a node (a dry run of its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Per node: is the agent ready, when did it last sync, how many rules and set members it installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready)')
            [CompletionResult]::new('drops', 'drops', [CompletionResultType]::ParameterValue, 'Recent packets the enforcer dropped, mapped back to the pod, the direction and the policies that isolate it (newest last)')
            break
        }
        'kubectl-netpol;help;enforcer;rules' {
            break
        }
        'kubectl-netpol;help;enforcer;status' {
            break
        }
        'kubectl-netpol;help;enforcer;drops' {
            break
        }
        'kubectl-netpol;help;install-enforcer' {
            break
        }
        'kubectl-netpol;help;uninstall-enforcer' {
            break
        }
        'kubectl-netpol;help;completion' {
            break
        }
        'kubectl-netpol;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
