package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// TestValuesThePlannerCannotResolveAreRefused: a property the diagram or the
// estimate reads must resolve to what CloudFormation would deploy; an
// intrinsic the planner does not evaluate fails the plan, naming the
// function and where it is, instead of reading as "".
func TestValuesThePlannerCannotResolveAreRefused(t *testing.T) {
	const database = `
Parameters:
  DbClass: {Type: String, Default: db.t4g.small}
Conditions:
  IsProd: %s
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Condition: IsProd
    Properties:
      Engine: mysql
      EngineVersion: !Sub "${Major}.4"
      DBInstanceClass: !Ref DbClass
      StorageType: %s
      AllocatedStorage: 20
`
	for _, tc := range []struct {
		name, condition, storageType string
		wantErr                      []string // empty: no error
	}{
		{"literals, parameters and substitutions", `!Equals [!Ref EnvName, prod]`, "gp3", nil},
		{"a mapping", `!Equals [!Ref EnvName, prod]`, "!FindInMap [Storage, !Ref EnvName, Type]",
			[]string{"Fn::FindInMap", "Resources.Database.Properties.StorageType"}},
		{"an Availability Zone", `!Equals [!Ref EnvName, prod]`, `!Select [0, !GetAZs ""]`,
			[]string{"Fn::Select", "Resources.Database.Properties.StorageType"}},
		{"a pseudo parameter", `!Equals [!Ref EnvName, prod]`, "!Ref AWS::Region",
			[]string{"Ref AWS::Region", "Resources.Database.Properties.StorageType"}},
		{"a condition", `!Equals [!Select [0, !Split [",", "prod,test"]], prod]`, "gp3",
			[]string{"Fn::Select", "Conditions.IsProd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := cfn.Parse(fmt.Appendf(nil, database, tc.condition, tc.storageType))
			if err != nil {
				t.Fatal(err)
			}
			s := &stack{name: "data", t: tpl, params: map[string]string{"EnvName": "prod", "DbClass": "db.t4g.small", "Major": "8"}}
			var p Platform
			err = p.read(s)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("read = %v, want no error", err)
				}
				want := Database{Engine: "mysql", Version: "8.4", Class: "db.t4g.small", StorageType: "gp3", StorageGB: 20}
				if p.Database != want {
					t.Errorf("database = %+v, want %+v", p.Database, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("read succeeded with database %+v; want an error naming %q", p.Database, tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}
