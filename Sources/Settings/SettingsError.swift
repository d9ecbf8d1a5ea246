/// A setting that cannot be taken, named with the reason; nothing is changed.
public enum SettingsError: Error, Equatable, CustomStringConvertible {
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let key, let reason): "setting \(key): \(reason)"
        }
    }
}
