/// Thresholds at platform, tenant and node level: a rule that `overrides` a platform rule takes its place for one
/// tenant's or one node's series, and the most specific rule wins. A platform rule skips the series of every tenant and
/// node that overrides it; a tenant's override skips the nodes that override the same rule. A disabled override
/// still takes its scope: that is how a rule is switched off for one tenant or node.
public enum RuleScopes {
    /// The nodes and tenants whose series `rule` leaves to more specific rules, given every stored rule.
    public static func excluded(for rule: AlertRule, among rules: [AlertRule]) -> (nodes: Set<String>, tenants: Set<String>) {
        let family = rule.overrides ?? rule.name
        let overrides = rules.filter { $0.overrides == family && $0.name != rule.name }
        let nodes = Set(overrides.compactMap(\.filter.nodeID))
        let tenants = Set(overrides.filter { $0.filter.nodeID == nil }.compactMap(\.filter.tenantID))
        if rule.filter.nodeID != nil { return ([], []) }
        if rule.overrides != nil { return (nodes, []) }
        return (nodes, tenants)
    }

    /// Whether a series (by its labels) is left to a more specific rule.
    public static func skips(_ labels: [String: String], _ excluded: (nodes: Set<String>, tenants: Set<String>)) -> Bool {
        if let node = labels["node"], excluded.nodes.contains(node) { return true }
        if let tenant = labels["tenant"], excluded.tenants.contains(tenant) { return true }
        return false
    }
}
