import ArgumentParser
import Foundation
import Portal

/// The controller's settings as the controller reads them: the YAML file (`--config` or
/// METALPLANE_CONFIG), then METALPLANE_* variables, then flags. `metalplane backup` reads the same.
enum ControllerSettings {
    static func load(config: String?, flags: [(String, String?)], environment: [String: String]) throws -> ControllerConfiguration {
        var settings = ControllerConfiguration()
        do {
            if let path = config ?? environment["METALPLANE_CONFIG"] {
                try settings.apply(yaml: try String(contentsOfFile: path, encoding: .utf8))
                settings.configurationFile = URL(fileURLWithPath: path).standardizedFileURL.path
            }
            try settings.apply(environment: environment)
            for case let (key, value?) in flags { try settings.set(key, value) }
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        return settings
    }
}
