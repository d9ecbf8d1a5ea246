import ArgumentParser
import Foundation
import Portal
import Settings

/// The controller's settings as the controller reads them: the YAML file (`--config` or
/// METALPLANE_CONFIG), then METALPLANE_* variables, then flags. `metalplane backup` reads the same.
enum ControllerSettings {
    static func load(config: String?, flags: [(String, String?)], environment: [String: String]) throws -> ControllerConfiguration {
        let file = config ?? environment["METALPLANE_CONFIG"]
        do {
            var settings = try ControllerConfiguration.load(file: file, environment: environment, flags: flags)
            settings.configurationFile = file.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            return settings
        } catch {
            throw ValidationError(error.description)
        }
    }
}
