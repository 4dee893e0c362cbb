-- A copied database must not talk to Meta with production credentials.
UPDATE whatsapp_account
   SET active = false,
       api_base_url = 'http://127.0.0.1:8765';
