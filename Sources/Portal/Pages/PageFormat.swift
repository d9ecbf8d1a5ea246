import Core
import Foundation

/// How the pages write times, sizes and lists: UTC, to the minute, the way operators read logs.
enum PageFormat {
    static func time(_ millis: JSONValue) -> String {
        guard let value = millis.int, value > 0 else { return "" }
        return time(value)
    }

    static func time(_ millis: Int64) -> String {
        let p = RFC3339.fields(ofMillis: millis)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", p.year, p.month, p.day, p.hour, p.minute, p.second)
    }

    static func bytes(_ value: JSONValue) -> String {
        guard let bytes = value.double else { return "" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var size = bytes, unit = 0
        while size >= 1024, unit < units.count - 1 { size /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(size)) B" : String(format: "%.1f %@", size, units[unit])
    }

    /// A node's accelerators as `2 × nvidia H100 (80 GiB)`.
    static func accelerators(_ value: JSONValue) -> String {
        value.items.map { "\($0["count"].text) × \($0["vendor"].text) \($0["model"].text) (\($0["memoryMiB"].int.map { "\($0 / 1024) GiB" } ?? ""))" }
            .joined(separator: ", ")
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    /// A query string from the filters that are set.
    static func query(_ pairs: [(String, String?)]) -> String {
        let set = pairs.compactMap { name, value in value.map { (name, $0) } }
        return set.isEmpty ? "" : String(OIDCRoutes.appending("", set))
    }
}
