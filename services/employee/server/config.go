package server

import (
	"fmt"
	"log/slog"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// Config is everything the employee service reads from its environment.
type Config struct {
	Web web.Config
	DB  suppliers.DBConfig
}

// ConfigFromEnv reads and validates the settings, naming every variable
// that is missing or malformed in one error.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	env := envconfig.New(lookup)
	cfg := Config{Web: web.ConfigFromEnv(env), DB: suppliers.DBConfigFromEnv(env)}
	if err := env.Err(); err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

// LogValue logs the settings with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("web", c.Web), slog.Any("db", c.DB))
}
