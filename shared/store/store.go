package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	ctxsleep "github.com/pilotsync/pilotsync/shared/internal/sleep"
)

// DynamoDB limits the store works within. Source: "Service, account, and table
// quotas in Amazon DynamoDB" and the API reference pages of each operation
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
const (
	// maxTransactItems is the number of actions one TransactWriteItems may hold
	// (API_TransactWriteItems: "up to 100 action requests").
	maxTransactItems = 100
	// maxTransactBytes is the aggregate size of the items in one transaction
	// (API_TransactWriteItems: "cannot exceed 4 MB").
	maxTransactBytes = 4 << 20
	// transactBudget is what the packer fills a transaction to: DynamoDB
	// counts the request's whole payload against the 4 MB (DynamoDB Local
	// refused 22 actions whose items came to exactly 4 MB: "Transaction
	// payload size cannot exceed 4MB. Payload Size: 4194487"), so a
	// transaction leaves room for its keys, table names and expressions.
	transactBudget = maxTransactBytes - 64<<10
	// maxBatchWrite is the number of put/delete requests in one BatchWriteItem
	// (API_BatchWriteItem: "up to 25 item put or delete operations").
	maxBatchWrite = 25
	// maxBatchGet is the number of keys in one BatchGetItem
	// (API_BatchGetItem: "up to 100 items").
	maxBatchGet = 100
	// maxItemBytes is the largest item DynamoDB stores
	// (ServiceQuotas: "The maximum item size in DynamoDB is 400 KB").
	maxItemBytes = 400 * 1024
)

// Tuning of the store's own retries and parallelism (not DynamoDB limits).
const (
	// maxRedrives bounds re-sending UnprocessedKeys/UnprocessedItems and
	// retrying transaction conflicts and throttling before giving up.
	maxRedrives = 12
	// backoffBase and backoffCap shape the jittered exponential backoff.
	backoffBase = 20 * time.Millisecond
	backoffCap  = 2 * time.Second
	// batchConcurrency is how many batch or transaction calls run at once for
	// one store call; small, because Lambda functions have little CPU and the
	// table is on-demand (throughput scales with partitions, not clients).
	batchConcurrency = 4
)

// Errors callers branch on.
var (
	// ErrNotFound reports that the requested item does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a failed optimistic-lock check: the stored profile
	// changed since it was read (its Version differs). Re-read and retry.
	ErrConflict = errors.New("store: conflict")
	// ErrLeaseHeld reports that another live owner holds the lease.
	ErrLeaseHeld = errors.New("store: lease held by another owner")
	// ErrLeaseLost reports that the caller no longer holds the lease (it
	// expired or another owner took it).
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrItemTooLarge reports an item over DynamoDB's 400 KB limit.
	ErrItemTooLarge = errors.New("store: item too large")
	// ErrInvalid reports an argument the store cannot key (empty or containing
	// the key separator where it is not allowed, unknown kind, bad day).
	ErrInvalid = errors.New("store: invalid argument")
)

// dynamoAPI lists the DynamoDB calls the store makes (the SDK client; tests
// wrap it to inject unprocessed items).
type dynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// Scan serves the daily link audit and the admin's status and redrive
	// (never a hot path).
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ dynamoAPI = (*dynamodb.Client)(nil)

// Store persists pilotsync's state in one DynamoDB table. It is safe for
// concurrent use; build it once per cold start.
type Store struct {
	db    dynamoAPI
	table string
	now   func() time.Time
	// names remembers the names this Store already added to the names
	// index (status.go), so a warm process writes each once.
	names *sync.Map
	// sum configures the activity summaries (summary.go).
	sum summaryOptions
	// backoff waits before a retry's attempt (sleep; tests count attempts
	// without waiting them out).
	backoff func(ctx context.Context, attempt int) error
}

// New returns a Store on table. Every DynamoDB call it makes ends within
// CallTimeout (timeout.go), or earlier with its context.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: callTimeout{db, CallTimeout}, table: table, now: time.Now, names: new(sync.Map), backoff: sleep}
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// Attribute names shared by the item types.
const (
	attrPK      = "PK"
	attrSK      = "SK"
	attrGSI1PK  = "GSI1PK"
	attrGSI1SK  = "GSI1SK"
	attrExpires = "expires_at"
)

// GSI1Name is the name of the sparse dirty-profile index.
const GSI1Name = "GSI1"

// CreateTable creates table with the schema described in the package comment
// (the one template.yaml declares), waits until it is active and enables TTL on
// expires_at. An existing table is left as it is, TTL included, so local runs
// can call it at every start.
func CreateTable(ctx context.Context, db *dynamodb.Client, table string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrGSI1PK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrGSI1SK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(GSI1Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("store: wait for table %s: %w", table, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpires),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("store: enable ttl on %s: %w", table, err)
	}
	return nil
}

// key builds a primary key.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
}

// checkEnv validates an environment name: it begins every key, so it may not
// be empty or contain the separator.
func checkEnv(env string) error {
	if env == "" || strings.Contains(env, "#") {
		return fmt.Errorf("%w: environment %q", ErrInvalid, env)
	}
	return nil
}

func checkName(what, v string) error {
	if v == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	}
	return nil
}

// expiresAt is the TTL attribute value (epoch seconds) for t.
func expiresAt(t time.Time) *types.AttributeValueMemberN { return num(t.Unix()) }

// expired reports whether item carries an expires_at at or before now.
// DynamoDB deletes expired items only eventually (DynamoDB Local never), so
// every read filters them.
func expired(item map[string]types.AttributeValue, now time.Time) bool {
	v, ok := item[attrExpires].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	var sec int64
	if _, err := fmt.Sscan(v.Value, &sec); err != nil {
		return false
	}
	return sec <= now.Unix()
}

// sleep waits backoffDelay(attempt), or until ctx ends.
func sleep(ctx context.Context, attempt int) error {
	return ctxsleep.For(ctx, backoffDelay(attempt))
}

// backoffDelay is the jittered exponential backoff before attempt: between
// half and all of backoffBase doubled per attempt, at most backoffCap.
func backoffDelay(attempt int) time.Duration {
	d := backoffBase << min(attempt, 10)
	if d > backoffCap {
		d = backoffCap
	}
	return d/2 + rand.N(d/2+1)
}

// parallel runs fn(0..n-1) with at most batchConcurrency at once and returns
// the first error (the others still finish).
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if n == 1 {
		return fn(ctx, 0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, batchConcurrency)
	)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// chunkCount is how many chunks of at most size hold n items.
func chunkCount(n, size int) int { return (n + size - 1) / size }

// batchGet reads keys with BatchGetItem, maxBatchGet at a time, re-driving
// UnprocessedKeys with backoff. Missing items are simply absent from the result.
// Reads are strongly consistent: callers read-modify-write.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var (
		mu  sync.Mutex
		out []map[string]types.AttributeValue
	)
	chunks := chunkCount(len(keys), maxBatchGet)
	if chunks == 0 {
		return nil, nil
	}
	err := parallel(ctx, chunks, func(ctx context.Context, c int) error {
		pending := keys[c*maxBatchGet : min((c+1)*maxBatchGet, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > maxRedrives {
					return fmt.Errorf("store: batch get: %d keys still unprocessed after %d attempts", len(pending), maxRedrives)
				}
				if err := s.backoff(ctx, attempt); err != nil {
					return fmt.Errorf("store: batch get: %w", err)
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
				},
			})
			if err != nil {
				if retryable(err) {
					continue
				}
				return fmt.Errorf("store: batch get %d keys: %w", len(pending), err)
			}
			mu.Lock()
			out = append(out, res.Responses[s.table]...)
			mu.Unlock()
			pending = res.UnprocessedKeys[s.table].Keys
		}
		return nil
	})
	return out, err
}

// batchWrite sends requests with BatchWriteItem, maxBatchWrite at a time,
// re-driving UnprocessedItems with backoff. Requests must not repeat a key.
// Writes are upserts, so a re-sent request that already landed is harmless.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	chunks := chunkCount(len(reqs), maxBatchWrite)
	if chunks == 0 {
		return nil
	}
	return parallel(ctx, chunks, func(ctx context.Context, c int) error {
		pending := reqs[c*maxBatchWrite : min((c+1)*maxBatchWrite, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > maxRedrives {
					return fmt.Errorf("store: batch write: %d items still unprocessed after %d attempts", len(pending), maxRedrives)
				}
				if err := s.backoff(ctx, attempt); err != nil {
					return fmt.Errorf("store: batch write: %w", err)
				}
			}
			res, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				if retryable(err) {
					continue
				}
				return fmt.Errorf("store: batch write %d items: %w", len(pending), err)
			}
			pending = res.UnprocessedItems[s.table]
		}
		return nil
	})
}

// retryable reports throttling and transient server errors. The SDK already
// retries these a few times; the store's loops add patience on top.
func retryable(err error) bool {
	var (
		thr *types.ProvisionedThroughputExceededException
		req *types.RequestLimitExceeded
		ise *types.InternalServerError
		tc  *types.TransactionConflictException
	)
	return errors.As(err, &thr) || errors.As(err, &req) || errors.As(err, &ise) || errors.As(err, &tc)
}

// isConditionFailed reports a ConditionalCheckFailedException.
func isConditionFailed(err error) bool {
	var cc *types.ConditionalCheckFailedException
	return errors.As(err, &cc)
}
