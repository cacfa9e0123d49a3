# A cart service in Sinatra (classic Rack app) on Puma, keeping carts in Redis
# through redis-rb. Errors are not rescued: Sinatra (production) logs the
# exception with its backtrace to stderr and answers 500.
require 'sinatra/base'
require 'redis'
require 'json'

class Cart < Sinatra::Base
  set :environment, :production
  set :logging, true

  REDIS = Redis.new(host: '127.0.0.1', port: Integer(ENV.fetch('REDIS_PORT')))

  get '/cart/:id' do
    content_type :json
    REDIS.lrange("cart:#{params[:id]}", 0, -1).to_json
  end

  get '/health' do
    'ok'
  end
end

run Cart
