import Yams

extension AgentConfiguration {
    /// Overlays a YAML file: top-level settings, the runbook's `model_store.staging` section, and
    /// `node_overrides.<hostname>` applied last, so one file can serve every node.
    public mutating func apply(yaml text: String) throws {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw AgentConfigurationError.invalid(key: "(file)", reason: "not valid YAML: \(error)") }
        guard let map = loaded as? [String: Any] else {
            if loaded == nil { return }
            throw AgentConfigurationError.invalid(key: "(file)", reason: "the top level must be a mapping")
        }
        try apply(map)
        if let overrides = map["node_overrides"] as? [String: Any], let mine = overrides[hostname] {
            guard let mine = mine as? [String: Any] else { throw AgentConfigurationError.invalid(key: "node_overrides.\(hostname)", reason: "must be a mapping") }
            try apply(mine)
        }
    }

    private mutating func apply(_ map: [String: Any]) throws {
        for (key, value) in map where !["node_overrides", "model_store", "staging"].contains(key) {
            try set(key, String(describing: value))
        }
        let staging = ((map["model_store"] as? [String: Any])?["staging"] ?? map["staging"]) as? [String: Any] ?? [:]
        for (key, value) in staging { try set(key, String(describing: value)) }
    }
}
