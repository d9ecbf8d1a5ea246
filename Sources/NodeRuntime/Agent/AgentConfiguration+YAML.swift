import Settings

extension AgentConfiguration {
    /// The file's sections: the runbook's `model_store.staging` (or `staging`), then
    /// `node_overrides.<hostname>`, applied last so one file can serve every node.
    public static var sections: Set<String> { ["node_overrides", "model_store", "staging"] }

    public mutating func applySections(_ document: [String: Any]) throws(SettingsError) {
        try applyStaging(document)
        if let overrides = document["node_overrides"] as? [String: Any], let mine = overrides[hostname] {
            guard let mine = mine as? [String: Any] else { throw .invalid(key: "node_overrides.\(hostname)", reason: "must be a mapping") }
            try apply(plain: mine)
            try applyStaging(mine)
        }
    }

    private mutating func applyStaging(_ map: [String: Any]) throws(SettingsError) {
        let staging = ((map["model_store"] as? [String: Any])?["staging"] ?? map["staging"]) as? [String: Any] ?? [:]
        for (key, value) in staging { try set(key, String(describing: value)) }
    }
}
