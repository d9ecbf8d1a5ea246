import Foundation
import Yams

/// One configuration mechanism for every process (the controller, the node agent, the backup
/// command): a table of keys with their `METALPLANE_*` variables, each key set from text by the
/// settings type itself; loaded from the YAML file, then the environment, then flags, each layer
/// over the one before.
public protocol LayeredSettings {
    /// Each setting's key (as in the YAML file and `set`) and its environment variable.
    static var keys: [(String, String)] { get }
    /// Top-level YAML keys that are sections (read by `applySections`), not settings.
    static var sections: Set<String> { get }

    init()

    /// Sets one key from text, checking its type and range.
    mutating func set(_ key: String, _ value: String) throws(SettingsError)
    /// Reads the file's sections (pools, per-node overrides, …); called after its plain keys.
    mutating func applySections(_ document: [String: Any]) throws(SettingsError)
}

extension LayeredSettings {
    public static var sections: Set<String> { [] }

    public mutating func applySections(_ document: [String: Any]) throws(SettingsError) {}

    /// Overlays `METALPLANE_*` variables.
    public mutating func apply(environment: [String: String]) throws(SettingsError) {
        for (key, variable) in Self.keys {
            if let value = environment[variable] { try set(key, value) }
        }
    }

    /// Overlays a YAML document: its plain keys, then its sections.
    public mutating func apply(yaml text: String) throws(SettingsError) {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw .invalid(key: "(file)", reason: "not valid YAML: \(error)") }
        guard let document = loaded as? [String: Any] else {
            if loaded == nil { return }
            throw .invalid(key: "(file)", reason: "the top level must be a mapping")
        }
        try apply(plain: document)
        try applySections(document)
    }

    /// Sets every key of `map` that is not a section (a section's own plain keys use this too).
    public mutating func apply(plain map: [String: Any]) throws(SettingsError) {
        for (key, value) in map where !Self.sections.contains(key) { try set(key, String(describing: value)) }
    }

    /// The settings of a process: the defaults, the YAML file at `file`, the environment, then `flags`
    /// (those given; nil means not given).
    public static func load(file: String?, environment: [String: String], flags: [(String, String?)]) throws(SettingsError) -> Self {
        var settings = Self()
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch { throw .invalid(key: "(file)", reason: "cannot read \(file): \(error)") }
            try settings.apply(yaml: text)
        }
        try settings.apply(environment: environment)
        for case let (key, value?) in flags { try settings.set(key, value) }
        return settings
    }
}

/// Typed readings of a setting's text, with the range in the refusal.
public struct SettingText: Sendable {
    public let key: String
    public let text: String

    public init(_ key: String, _ text: String) {
        self.key = key
        self.text = text
    }

    public func integer(_ range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let number = Int(text), range.contains(number) else {
            throw .invalid(key: key, reason: "must be an integer in \(range.lowerBound)…\(range.upperBound), got \(text)")
        }
        return number
    }

    public func number(_ range: ClosedRange<Double>, unit: String = "a number") throws(SettingsError) -> Double {
        guard let number = Double(text), range.contains(number) else {
            throw .invalid(key: key, reason: "must be \(unit) in \(range.lowerBound)…\(range.upperBound), got \(text)")
        }
        return number
    }

    public func boolean() throws(SettingsError) -> Bool {
        guard let flag = Bool(text.lowercased()) else { throw .invalid(key: key, reason: "must be true or false") }
        return flag
    }
}
