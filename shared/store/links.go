package store

import (
	"context"
	"fmt"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LinkedProfiles yields every profile of kind that is linked to a HubSpot
// record, for the daily link audit. It scans the table (filtered server-side
// to linked profile items), so it reads every item once: meant for a daily
// job, not a hot path. Profiles are read with eventual consistency; a
// repair of a superseded Version fails with ErrConflict and is re-read.
func (s *Store) LinkedProfiles(ctx context.Context, env string, kind Kind) iter.Seq2[*Profile, error] {
	return func(yield func(*Profile, error) bool) {
		if err := checkEnv(env); err != nil {
			yield(nil, err)
			return
		}
		if !kind.valid() {
			yield(nil, fmt.Errorf("%w: kind %q", ErrInvalid, kind))
			return
		}
		p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
			TableName:                aws.String(s.table),
			FilterExpression:         aws.String("begins_with(#pk, :prefix) AND #sk = :sk AND attribute_exists(#hs)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK, "#hs": attrHSID},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":prefix": str(profilePK(env, kind, "")),
				":sk":     str(skProfile),
			},
		})
		yieldProfiles(ctx, p.HasMorePages, scanPages(p), "list linked "+string(kind)+" profiles", yield)
	}
}
