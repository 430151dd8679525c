package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// CallTimeout bounds every DynamoDB call of the store (the SDK's own retries
// included): a call takes milliseconds, so a hung table fails the call long
// before a Lambda timeout instead of using the whole invocation. Calls end
// earlier when their context does (the invocation's work or cleanup
// deadline, shared/deadline).
const CallTimeout = 10 * time.Second

// callTimeout gives each call of db its own timeout within its context.
type callTimeout struct {
	db dynamoAPI
	d  time.Duration
}

func (c callTimeout) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.GetItem(ctx, in, o...)
}

func (c callTimeout) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.PutItem(ctx, in, o...)
}

func (c callTimeout) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.UpdateItem(ctx, in, o...)
}

func (c callTimeout) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.DeleteItem(ctx, in, o...)
}

func (c callTimeout) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.BatchGetItem(ctx, in, o...)
}

func (c callTimeout) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.BatchWriteItem(ctx, in, o...)
}

func (c callTimeout) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.TransactWriteItems(ctx, in, o...)
}

func (c callTimeout) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.Query(ctx, in, o...)
}

func (c callTimeout) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.d)
	defer cancel()
	return c.db.Scan(ctx, in, o...)
}
